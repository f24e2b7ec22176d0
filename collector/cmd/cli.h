/*
 * cli: the subcommands of bin/choreoscope. main.c only dispatches; each subcommand
 * lives in its own module and parses its own flags. Each returns the process exit
 * status (0 ok, 1 runtime failure, 2 usage or config error).
 */
#ifndef CHOREOSCOPE_CLI_H
#define CHOREOSCOPE_CLI_H

#define CHOREOSCOPE_VERSION "0.1.0"

int replay_main(int argc, char **argv);      /* replay.c:  choreoscope replay ... */
int checkconfig_main(int argc, char **argv); /* replay.c:  choreoscope --check-config FILE */
int daemon_main(int argc, char **argv);      /* daemon.c:  choreoscope [--config FILE] ... */
int dashgen_main(int argc, char **argv);     /* dashgen.c: choreoscope gen-dashboards ... */
int discover_main(int argc, char **argv);    /* discover_cmd.c: choreoscope discover ... */
int history_main(int argc, char **argv);     /* history_cmd.c: choreoscope history ... */

#endif
