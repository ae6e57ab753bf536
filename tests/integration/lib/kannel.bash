# kannel.bash - Debian's Kannel 1.4.5 (bearerbox + smsbox) in a black-box
# test (sourced, bash, after common.bash):
#   kannel_conf SMSC_ID SMSC_PORT SMSC_PASSWORD USER LOG_LEVEL
# writes $T/kannel.conf: a bearerbox with its admin page on $KADMIN
# (password $KANNEL_ADMIN, default "adm") and its box port on $KBOX, all
# on 127.0.0.1; one SMPP transceiver to 127.0.0.1:SMSC_PORT bound as
# system_id "kannel" with SMSC_PASSWORD (smsc-id SMSC_ID); an smsbox
# whose sendsms port is $KSEND; and the sendsms user USER with password
# "s3cret". $KANNEL_SMSBOX (lines) is added to the smsbox group. The
# sendsms-user group comes last, so that lines the caller appends to the
# file belong to it. Logs go to $T/bearerbox-file.log and
# $T/smsbox-file.log.
kannel_conf() {
  cat >"$T/kannel.conf" <<CONF
group = core
admin-port = $KADMIN
admin-interface = "127.0.0.1"
admin-password = ${KANNEL_ADMIN:-adm}
status-password = ${KANNEL_ADMIN:-adm}
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "127.0.0.1"
smsbox-port = $KBOX
smsbox-interface = "127.0.0.1"
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "$T/bearerbox-file.log"
log-level = $5
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = $1
host = 127.0.0.1
port = $2
transceiver-mode = yes
smsc-username = kannel
smsc-password = $3
system-type = ""

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $KBOX
sendsms-interface = "127.0.0.1"
sendsms-port = $KSEND
log-file = "$T/smsbox-file.log"
log-level = $5
${KANNEL_SMSBOX:-}

group = sendsms-user
username = $4
password = s3cret
CONF
}
