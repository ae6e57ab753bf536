/* main.c - the smsgate program: one binary, one subcommand per job
 * (DESIGN.md "One program"). This file only dispatches; each subcommand lives
 * in its own file and never calls exit() from library code. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const sg_cli_command_t commands[] = {
    {"serve", "run the gateway (REST API, engine, connectors)", sg_cmd_serve},
    {"segments", "show the encoding and parts a text needs (nothing is sent)",
     sg_cmd_segments},
    {"sim", "run a simulator: smsc, modem, load or sink (tests and demos)",
     sg_cmd_sim},
    {"send", "send a message through a running gateway's REST API",
     sg_cmd_send},
    {"status", "show a message of a running gateway (status, parts, events)",
     sg_cmd_status},
    {"config", "check a configuration file, or print the built-in one",
     sg_cmd_config},
    {"inbound", "list or follow (--follow) the messages a gateway received",
     sg_cmd_inbound},
    {"hash-password", "print the argon2id hash of a password read from stdin",
     sg_cmd_hash_password},
    {"account", "list, show, create, change, disable accounts of a gateway",
     sg_cmd_account},
    {"key", "create, list, revoke, rotate API keys of a gateway", sg_cmd_key},
    {"routes", "show a gateway's routing table, or test where a message goes",
     sg_cmd_routes},
    {"connectors", "list a gateway's connectors, or pause and resume one",
     sg_cmd_connectors},
    {"reload", "make a running gateway apply its configuration file again",
     sg_cmd_reload},
    {"queues", "show a gateway's queues per connector, or purge one",
     sg_cmd_queues},
    {"messages", "retry a failed message, or cancel any account's message",
     sg_cmd_messages},
    {"campaigns", "list, show, create, pause, resume or cancel campaigns",
     sg_cmd_campaigns},
    {"version", "print the version", cmd_version},
    {"help", "list the subcommands, or show one's help", cmd_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const sg_cli_command_t *find_command(const char *name) {
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static void usage(FILE *f) {
  fprintf(f,
          "smsgate %s - an SMS gateway\n\n"
          "usage: smsgate <command> [options]\n\ncommands:\n",
          SG_VERSION);
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nRun 'smsgate help <command>' or 'smsgate <command> --help' "
             "for a command's options.\n");
}

static int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("smsgate %s\n", SG_VERSION);
  return 0;
}

static int cmd_help(int argc, char **argv) {
  if (argc < 2) {
    usage(stdout);
    return 0;
  }
  const sg_cli_command_t *c = find_command(argv[1]);
  if (c == NULL) {
    fprintf(stderr, "smsgate: unknown command '%s'\n", argv[1]);
    return 2;
  }
  char *sub_argv[] = {argv[1], "--help", NULL};
  return c->run(2, sub_argv);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
    return cmd_version(0, NULL);
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
    name = "help";
  const sg_cli_command_t *c = find_command(name);
  if (c == NULL) {
    fprintf(stderr, "smsgate: unknown command '%s'\n\n", name);
    usage(stderr);
    return 2;
  }
  return c->run(argc - 1, argv + 1);
}
