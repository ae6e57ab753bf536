/* sim_modem.h - `smsgate sim modem`: runs the GSM modem simulator
 * (sim/modem_sim.h) on a pseudo-terminal until SIGINT or SIGTERM.
 */
#ifndef SG_CLI_SIM_MODEM_H
#define SG_CLI_SIM_MODEM_H

/* Runs `smsgate sim modem` with the arguments after "modem". Returns 0
 * (stopped by a signal), 1 (could not start) or 2 (usage). */
int sg_cmd_sim_modem(int argc, char **argv);

#endif
