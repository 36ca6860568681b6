-- 009_dead_letter_rows: a bad line of a file is one dead letter, however often it is sent
--
-- A dead letter is stored once per origin (sender, epoch, batch, index,
-- reason: 001). A producer that restarts after a crash has a new epoch and
-- sends again the lines of its file not yet acknowledged (the producer's
-- journal and position file), so the origin alone would store a second
-- dead letter for a bad line stored before the crash. A dead letter of a
-- file line (line_no > 0) is also unique by what it is: the line, the
-- transaction id, the reason and the row as received. The insert's ON
-- CONFLICT DO NOTHING skips a copy for either index. Copies stored
-- before this rule existed are removed first, keeping the oldest.
DELETE FROM txw_data.dead_letters
 WHERE id IN (SELECT id FROM (
     SELECT id, row_number () OVER (
                PARTITION BY line_no, coalesce (tx_id, ''), reason, md5 (coalesce (payload, ''))
                ORDER BY id) AS copy
       FROM txw_data.dead_letters WHERE line_no > 0) numbered
     WHERE copy > 1);

CREATE UNIQUE INDEX dead_letters_file_row ON txw_data.dead_letters
    (line_no, coalesce (tx_id, ''), reason, md5 (coalesce (payload, '')))
    WHERE line_no > 0;
