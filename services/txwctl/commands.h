/*  commands - one function per txwctl command

    Each command parses its own options (getopt_long on the words after its
    name), makes its request through api.h and prints either the API's JSON
    (--json) or readable text through render.h. Every command returns an
    exit code: CTL_OK, CTL_API_ERROR (the API or the network failed; the
    message is printed) or CTL_USAGE (bad options; the message is printed).
    A command's name is one word, or two for a group: "keys list", "keys
    create" and "keys revoke" are three commands, each with its own --help. */

#ifndef TXW_TXWCTL_COMMANDS_H
#define TXW_TXWCTL_COMMANDS_H

#include "api.h"

typedef int (ctl_command_fn) (ctl_api_t *api, int argc, char **argv);

typedef struct {
    const char *name;           //  "stats", or a group's "keys create"
    ctl_command_fn *run;
    const char *synopsis;       //  the options after the name
    const char *help;           //  what it does, for --help
} ctl_command_t;

//  The command table, ending with a NULL name.
extern const ctl_command_t ctl_commands [];

//  Finds a command by its whole name, or NULL.
const ctl_command_t *ctl_command_find (const char *name);

//  Finds the command argv (argc words, at least one) names: returns it
//  with *words set to the words its name takes (1 or 2). Otherwise prints
//  why and returns NULL with *exit_code set: CTL_USAGE for an unknown
//  command or a group without a subcommand, CTL_OK after `txwctl keys
//  --help` (which lists the group).
const ctl_command_t *ctl_command_select (int argc, char **argv, int *words, int *exit_code);

//  Prints "usage: txwctl [--api URL] ... NAME SYNOPSIS" and the help.
void ctl_command_usage (const ctl_command_t *command, FILE *out);

#endif
