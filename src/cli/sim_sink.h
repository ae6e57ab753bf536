/* sim_sink.h - `smsgate sim sink`: the webhook sink (sim/sink.h) as a
 * program, for benchmarks and tests that need a fast webhook receiver.
 */
#ifndef SG_CLI_SIM_SINK_H
#define SG_CLI_SIM_SINK_H

/* Runs `smsgate sim sink` with the arguments after "sink" (argv[0] is the
 * first option). Listens until SIGINT or SIGTERM, prints "listening on
 * HOST:PORT" when ready and the final counts (one JSON line) at exit.
 * Returns 0 when stopped by a signal, 1 when it could not listen, 2 on a
 * usage error. Never calls exit(). */
int sg_cmd_sim_sink(int argc, char **argv);

#endif
