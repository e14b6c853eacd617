/* Subcommands of the logward binary (prefix lw_cmd). Each takes the
 * argv after the subcommand name (argv[0] is the subcommand), prints its
 * own usage and errors, and returns the process exit code. */
#ifndef LW_CLI_COMMANDS_H
#define LW_CLI_COMMANDS_H

int lw_cmd_serve(int argc, char **argv);
int lw_cmd_ingest(int argc, char **argv);
int lw_cmd_query(int argc, char **argv);
int lw_cmd_verify(int argc, char **argv);
int lw_cmd_stats(int argc, char **argv);
int lw_cmd_incidents(int argc, char **argv);
int lw_cmd_rules(int argc, char **argv);
int lw_cmd_init_key(int argc, char **argv);
int lw_cmd_user(int argc, char **argv);
int lw_cmd_token(int argc, char **argv);
int lw_cmd_audit(int argc, char **argv);

#endif
