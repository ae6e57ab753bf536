/* commands.h - the subcommands of the smsgate program. Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the
 * process exit code: 0 success, 1 failure, 2 usage error. */
#ifndef SG_CLI_COMMANDS_H
#define SG_CLI_COMMANDS_H

typedef struct sg_cli_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} sg_cli_command_t;

int sg_cmd_serve(int argc, char **argv);
int sg_cmd_segments(int argc, char **argv);
int sg_cmd_sim(int argc, char **argv);
int sg_cmd_send(int argc, char **argv);
int sg_cmd_status(int argc, char **argv);
int sg_cmd_config(int argc, char **argv);
int sg_cmd_inbound(int argc, char **argv);
/* `smsgate inbound rules ...` (inbound_rules.c); argv[0] is "rules". */
int sg_cmd_inbound_rules(int argc, char **argv);
int sg_cmd_hash_password(int argc, char **argv);
int sg_cmd_account(int argc, char **argv);
int sg_cmd_key(int argc, char **argv);
int sg_cmd_routes(int argc, char **argv);
int sg_cmd_connectors(int argc, char **argv);
int sg_cmd_reload(int argc, char **argv);
/* src/cli/ops.c: `smsgate queues` and `smsgate messages` (admin). */
int sg_cmd_queues(int argc, char **argv);
int sg_cmd_messages(int argc, char **argv);
/* src/cli/campaigns.c: `smsgate campaigns`. */
int sg_cmd_campaigns(int argc, char **argv);

#endif
