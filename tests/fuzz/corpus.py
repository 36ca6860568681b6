#!/usr/bin/env python3
"""corpus.py - writes the seed corpora of the fuzz harnesses

Usage: python3 tests/fuzz/corpus.py [DIR]   (default tests/fuzz/corpus)

Each harness gets a handful of small, realistic inputs in DIR/<harness>/:
wire frames packed by hand in msgpack, CSV files, rule files, model files
with their CRC-32s, query strings and client frames. Regression inputs
for defects the fuzzers found are named regress-*. Running it again
rewrites the same files; the fuzzers never write here (tests/fuzz/run.sh
fuzzes a copy in build/fuzz/corpus).
"""

import os
import struct
import sys
import zlib

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")


def put(harness, name, data):
    folder = os.path.join(ROOT, harness)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# --- msgpack, the subset the wire format uses ---------------------------------

def mp(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v <= 0x7f:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if 0 <= v <= 0xff:
            return b"\xcc" + struct.pack(">B", v)
        if 0 <= v <= 0xffff:
            return b"\xcd" + struct.pack(">H", v)
        if 0 <= v <= 0xffffffff:
            return b"\xce" + struct.pack(">I", v)
        if 0 <= v:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xa0 | len(b)]) + b
        return b"\xd9" + bytes([len(b)]) + b
    if isinstance(v, list):
        if len(v) < 16:
            head = bytes([0x90 | len(v)])
        else:
            head = b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(mp(x) for x in v)
    raise TypeError(v)


def envelope(msg_type, records, source="producer-1@host", seq=1):
    return mp([1, msg_type, source, 1767607200000000, seq, 1767607200123456, records])


RAW = ["T1-42", "2026-01-05T10:00:00.123Z", "A000123", "12.50", "EUR", "M00042",
       "grocery", "pos", "B017", "R3", "DE", "D99", "P7", "approved", 1767607200123456, 2]
RAW_INT_TS = ["T1-43", 1767607200456, "A000124", "1500", "JPY", "M00043", "travel",
              "online", "B001", "R1", "JP", "D100", None, "declined", 0, 0]
RAW_BAD = ["T1-44", "2026-13-40T25:00:00Z", "A 1", "-3", "eur", "M1", "x" * 40,
           "fax", "B1", "R1", "ZZ", "D1", "P1", "maybe"]
TX = ["T1-42", 1767607200123, "A000123", 1250, "EUR", "M00042", "grocery", 1, "B017",
      "R3", "DE", "D99", "P7", 1, 1767607200123456, 10, 0, 1250]
SCORED = TX + [87, 48, "rules-3"]
REJECT = ["producer-1@host", 7, 3, 12, "T1-44", "bad_amount", "amount",
          "amount '-3' is negative", '{"tx_id":"T1-44","amount":"-3"}', 1767607200999]
ALERT = ["fraud", "T1-42", 1767607200123, "***0123", 87, 48, 1250, "EUR", 1250, "M00042",
         "DE", 1, "rules-3", 1767607200500, "R3", "new device with a high amount"]
WINDOW = ["region", "R3", 1767607200000, 60000, 2, 41, 51250, 100, 9900, 38, 2, 1, 3,
          700, 0, True, 50000]
HEARTBEAT = [1767607200000, 1767607200100]
#  An acknowledgement: origin ids use all 64 bits; the ref is type, seq, index.
ACK = [0xF00DFACECAFEBEEF, (1 << 56) | (7 << 16) | 3]
TX_ORIGIN = TX + ["android", 0xF00DFACECAFEBEEF, (1 << 56) | (7 << 16) | 4]


def codec():
    put("codec", "raw_tx", envelope(1, [RAW, RAW_INT_TS]))
    put("codec", "raw_tx_bad", envelope(1, [RAW_BAD, RAW[:14] + ["extra", [1, 2]]]))
    put("codec", "tx", envelope(2, [TX]))
    put("codec", "scored_tx", envelope(3, [SCORED, SCORED]))
    put("codec", "reject", envelope(4, [REJECT]))
    put("codec", "alert", envelope(5, [ALERT]))
    put("codec", "window", envelope(6, [WINDOW]))
    put("codec", "heartbeat", envelope(7, [HEARTBEAT], source="aggregator-0"))
    put("codec", "ack", envelope(8, [ACK, ACK], source="aggregator-0"))
    put("codec", "tx_origin", envelope(2, [TX_ORIGIN]))
    # Corrections: a whole one with its origin, and the shortest (four fields).
    put("codec", "correction", envelope(9, [
        ["T1-42", "A000123", 1767607200123, "charged_back", 1767700000000, "ops-key",
         "card holder disputes it", 4, 0xF00DFACECAFEBEEF, (9 << 56) | (3 << 16) | 1],
        ["T1-43", "A000123", 1767607200000, "REVERSED"]]))
    # The skipper consumed a uint64 above INT64_MAX twice (found with the ack record).
    put("codec", "regress-skip-uint64", envelope(8, [[0xFFFFFFFFFFFFFFFF, 1, 0xFFFFFFFFFFFFFFFF]]))
    put("codec", "record_raw", mp(RAW))


def validator():
    # first byte: 0 EUR reporting, 1 JPY
    put("validator", "good_eur", b"\x00" + mp(RAW))
    put("validator", "good_int_ts_jpy", b"\x01" + mp(RAW_INT_TS))
    put("validator", "bad_fields", b"\x00" + mp(RAW_BAD))
    put("validator", "kwd_padded", b"\x00" + mp(["T9", "2026-01-05T09:59:00+01:00", " A9 ",
        "0.125", "kwd", "M9", "Jewelry", "ATM", "B2", "R2", "kw", "D9", "", "Failed"]))
    put("validator", "wrong_type", b"\x00" + mp(["T1", "2026-01-05T10:00:00Z", 5] + RAW[3:]))
    put("validator", "correction", b"\x00" + mp(["T1-42", "A000123", 1767607200000, "charged_back",
                                               0, "ops-key", "disputed", 4]))
    # A correction's line_no above INT64_MAX made its dead letter's payload
    # a number JSON readers refuse; the codec now refuses the record.
    put("validator", "regress-correction-line-no", b"\x00" + mp(["T0", "A0", 5, "x", 92, "a", "",
                                                                  0xCFCFCFCFCFCFCFCF]))


def csv():
    header = ("tx_id,ts,account_id,amount,currency,merchant_id,category,channel,"
              "branch_id,region,country,device_id,product_id,status")
    put("csv", "plain.csv", header + "\n"
        "T1,2026-01-05T10:00:00Z,A000123,12.50,EUR,M00042,grocery,pos,B017,R3,DE,D99,P7,approved\n"
        "T2,2026-01-05T10:00:01Z,A000124,1500,JPY,M00043,travel,online,B001,R1,JP,D100,,declined\n")
    put("csv", "quoted.csv", "\xef\xbb\xbf" + header + ",is_fraud,fraud_pattern,injected\r\n"
        '"T,3",2026-01-05T10:00:00Z,"A""1",1.00,EUR,M1,"a, b",pos,B1,R1,DE,D1,P1,approved,1,card_testing,\r\n'
        'T4,2026-01-05T10:00:00Z,A1,2,EUR,M1,x,pos,B1,R1,DE,D1,P1,failed,0,,late\r\n')
    put("csv", "broken.csv", header + "\n"
        'T5,2026-01-05T10:00:00Z,A1,"unterminated,EUR\n'
        "T6,too,few,columns\n"
        'T7,2026-01-05T10:00:00Z,A1,1"2,EUR,M1,x,pos,B1,R1,DE,D1,P1,approved\n'
        "\n")
    put("csv", "bad_header.csv", "id,when,who\nT1,2026-01-05T10:00:00Z,A1\n")


def rfc3339():
    for i, t in enumerate(["2026-11-22T04:05:06.789+01:00", "2026-01-05T10:00:00Z",
                           "1998-12-31T23:59:60Z", "2024-02-29t12:00:00.123456789z",
                           "0000-01-01T00:00:00-00:01", "9999-12-31T23:59:59.999-23:59"]):
        put("rfc3339", "ts%d" % i, t)
    put("rfc3339", "ms_epoch", struct.pack("<q", 1767607200123))
    put("rfc3339", "ms_min", struct.pack("<q", -2 ** 63))


def amount():
    # first byte: exponent + 1 (mod 7)
    put("amount", "eur", b"\x03" + b"12.50")
    put("amount", "jpy", b"\x01" + b"1500")
    put("amount", "kwd", b"\x04" + b"0.125")
    put("amount", "clf_zeros", b"\x05" + b"0007.12340000")
    put("amount", "max", b"\x01" + b"9223372036854775807")
    put("amount", "regress-overflow-int64-min", b"\x03" + b"92233720368547758.08")


def rates():
    # first byte: reporting currency index (0 EUR, 1 USD, 2 JPY, 3 KWD, 4 CLF)
    put("rates", "eur.csv", b"\x00" + b"currency,rate\n# indicative, 2026-01-05\n"
        b"USD,0.92\nGBP,1.17\nJPY,0.0061\n  KWD,2.99\n\nCHF,1.04 # bank\n")
    put("rates", "jpy.csv", b"\x02" + b"EUR,163.934426229\nUSD,150.8\n")
    put("rates", "bad_code.csv", b"\x00" + b"USD,0.92\nXXQ,1\n")
    put("rates", "regress-long-line.csv", b"\x00" + b"# " + b"-" * 300 + b"USD,5\n"
        b"JPY,0.00610000000000000000000000000000000000000000000000000000000000000000"
        + b"0" * 250 + b"1\n")
    put("rates", "regress-rate-overflow.csv", b"\x00" + b"EUR,9996699910.00643\n")
    put("rates", "regress-convert-overflow.csv", b"\x04" + b"USD,333333333\n")


def ruleset():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "services", "scorer", "default-rules.json"), "rb") as f:
        put("ruleset", "default-rules.json", f.read())
    put("ruleset", "small.json", '{"version":"r1","rules":[{"name":"night","reason":"night_activity",'
        '"weight":20,"when":[["night",">=",1],["log_amount",">=",5.5]]}]}')
    put("ruleset", "categories.json", '{"version":"r2","description":"d","rules":[{"name":"a",'
        '"reason":"risky_category","weight":-100,"when":[["category_risk",">=",3]],"note":"n"},'
        '{"name":"b","reason":"model_anomaly","weight":100,"when":[["model_score",">=",0.995],'
        '["history","<=",1e3],["hour","<=",-0.5]]}],"categories":{"jewelry":{"risk":3,'
        '"amount_factor":6.0},"grocery":{"risk":0,"amount_factor":0.01}}}')
    put("ruleset", "unknown_key.json", '{"version":"r3","rules":[{"name":"x","reason":"new_device",'
        '"weight":5,"when":[["new_device",">=",1]],"wen":[]}]}')


# --- model files ----------------------------------------------------------------

def text16(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def forest(version="iforest-seed", features=2, names=None, trees=None, psi=2, depth=1, seed=7):
    """A forest file: trees are lists of (word, threshold) nodes."""
    if trees is None:
        split = 0 | (1 << 8)
        leaf = 255 | (1 << 8)
        trees = [[(split, 0.5), (leaf, 0.0), (leaf, 0.0)]]
    out = b"TXWIFOR1" + struct.pack("<I", 1) + text16(version) + struct.pack("<I", features)
    out += struct.pack("<B", 1 if names else 0)
    for n in names or []:
        out += text16(n)
    out += struct.pack("<IIIQ", len(trees), psi, depth, seed)
    for nodes in trees:
        out += struct.pack("<I", len(nodes))
        for word, threshold in nodes:
            out += struct.pack("<If", word, threshold)
    return out + struct.pack("<I", zlib.crc32(out))


def deeper():
    """psi 4, height 2: a split, a leaf of 2 rows, a split with two leaves."""
    leaf = lambda rows: (255 | (rows << 8), 0.0)
    return [[(1 | (1 << 8), 3.5), leaf(2), (0 | (3 << 8), -1.25), leaf(1), leaf(1)],
            [(0 | (1 << 8), 0.0), leaf(1), (1 | (3 << 8), 2.0), leaf(2), leaf(1)]]


def model(forest_bytes, quantiles):
    out = b"TXWMODL1" + struct.pack("<II", 1, len(quantiles))
    out += b"".join(struct.pack("<f", q) for q in quantiles)
    out += struct.pack("<I", len(forest_bytes)) + forest_bytes
    return out + struct.pack("<I", zlib.crc32(out))


def models():
    small = forest()
    named = forest("v2-named", 2, ["amount_ratio", "tx_minute"], deeper(), psi=4, depth=2)
    put("iforest", "small.bin", small)
    put("iforest", "named.bin", named)
    put("iforest", "three_features.bin", forest("x", 3, None, deeper(), psi=4, depth=3, seed=2**63))
    put("model", "small.bin", model(small, [0.3, 0.7]))
    put("model", "named.bin", model(named, [0.25, 0.4, 0.4, 0.55, 0.9]))
    put("model", "bad_order.bin", model(small, [0.7, 0.3]))


def params():
    for i, q in enumerate(["minutes=60", "dimension=country&key=DE&minutes=15&metric=volume",
                           "since=2026-01-05T10%3A00%3A00Z&min_score=80&status=open&kind=fraud&limit=50",
                           "reason=bad_amount&limit=10", "by=count&limit=5&minutes=1440",
                           "key=%C3%A9t%C3%A9+x&limit=-3", "limit=1&limit=2", "unknown=1"]):
        put("params", "q%d" % i, q)


def api():
    # first byte: endpoint (0 stats, 1 timeseries, 2 top, 3 branches, 4 regions,
    # 5 alerts, 6 ack, 7 transaction, 8 account, 9 dead letters); then
    # query \n argument \n body
    put("api", "stats", b"\x00minutes=5\n\n")
    put("api", "timeseries", b"\x01dimension=region&key=R3&minutes=60&metric=count\n\n")
    put("api", "top", b"\x02by=volume&limit=5\nmerchant\n")
    put("api", "alerts", b"\x05since=2026-01-05T00:00:00Z&min_score=50&status=open\n\n")
    put("api", "ack", b"\x06\n42\n{\"by\":\"alice\"}")
    put("api", "ack_key", b"\x06\nfraud:T1-42\n  {\"by\":\"\xc3\xa9\",\"x\":1}")
    put("api", "transaction", b"\x07\nT1-42\n")
    put("api", "account", b"\x08limit=3\nA000123\n")
    put("api", "dead_letters", b"\x09reason=bad_amount&limit=20\n\n")


def gateway():
    put("gateway", "resync", '{"op":"resync"}')
    put("gateway", "ping", '{"op":"ping"}')
    put("gateway", "subscribe", '{"op":"subscribe","topics":["alerts","windows","dead_letters"]}')
    put("gateway", "subscribe_bad", '{"op":"subscribe","topics":["alerts","nope"]}')
    put("gateway", "unknown", '{"op":"shout","topics":"stats"}')
    put("gateway", "query", "topics=alerts,stats,windows&x=1")


def retry_after():
    for i, v in enumerate(["120", "  5 \r\n", "Wed, 21 Oct 2015 07:28:00 GMT",
                           "Tuesday, 06-Jan-26 10:00:00 GMT", "Tue Jan  6 10:00:00 2026",
                           "99999999999999999999999", "-1", "1.5"]):
        put("retry_after", "v%d" % i, v)


def channels():
    put("channels", "all-types", """{ "channels": [
    { "name": "hook", "type": "webhook", "url": "https://h.example/x", "kinds": ["region_health"] },
    { "name": "ops-slack", "type": "slack", "url": "https://hooks.slack.example/T/B/x",
      "kinds": ["fraud"], "min_severity": "high", "min_score": 60 },
    { "name": "oncall", "type": "pagerduty", "routing_key_file": "/nonexistent/pd.key",
      "min_severity": "critical" },
    { "name": "desk", "type": "email", "url": "smtps://mail.example:465", "from": "a@b.example",
      "to": ["c@d.example"], "ssl_reqd": true, "min_severity": "medium" } ] }
""")
    put("channels", "email", '{"channels": [{"name": "m", "type": "email", "url": "smtp://h", '
                             '"from": "a@b", "to": ["e@f", "g@h"]}]}')
    put("channels", "both-urls", '{"channels": [{"name": "x", "type": "slack", "url": "https://h", '
                                 '"url_file": "/dev/null"}]}')


# fuzz_formats: a kind byte, a score byte, amount, reporting amount, time
# and reasons (8 bytes each, big-endian), then the text fields split at NUL.
def formats():
    def alert(kind, score, amount, rep, ts, reasons, fields):
        return bytes([kind, score]) + struct.pack(">qqqq", amount, rep, ts, reasons) + b"\0".join(fields)
    put("formats", "fraud", alert(0, 95, 250000, 600000, 1784246400123, 3,
        [b"tx-1", b"acc-1", b"EUR", b"m-1", b"north", b"DE", b"rules-1", b"score 95"]))
    put("formats", "hostile", alert(0, 80, -5, 0, 1, 0xffffffff,
        [b'tx"\r\nBcc: x@y', b"\xff\xfe", b"JPY", b"<!channel> & <a|b>", b"r\xc3", b"..", b"\x00",
         b"\xc3\xa9" * 300 + b"\n\x80"]))
    put("formats", "health", alert(1, 40, 0, 0, 1784246400000, 0,
        [b"", b"", b"", b"", b"R1", b"", b"health-1", b"region R1 degraded"]))


codec()
validator()
csv()
rfc3339()
amount()
rates()
ruleset()
models()
params()
api()
gateway()
retry_after()
channels()
formats()
