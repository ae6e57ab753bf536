/* sim_load.h - `smsgate sim load`: a driver and load generator that sends
 * texts through the SMPP client connector (connector/smpp_client.h) to an
 * SMSC and reports, as one JSON line, what became of every part.
 */
#ifndef SG_CLI_SIM_LOAD_H
#define SG_CLI_SIM_LOAD_H

/* Runs `smsgate sim load` with the arguments after "load" (argv[0] is the
 * first option, not the subcommand name). Segments each text once
 * (core/segment.h), submits count messages' parts on its own libuv loop,
 * waits for every part's result (and, with --dlr, for its receipt, up to
 * --dlr-timeout), prints the summary line on stdout and returns the exit
 * code: 0 when every part was SENT (and every receipt came with --dlr),
 * 1 otherwise (or when it could not bind), 2 on a usage error. Never calls
 * exit(). */
int sg_cmd_sim_load(int argc, char **argv);

#endif
