/* bench_codec.c - how fast the hot-path codecs are on one core: SMPP
 * submit_sm encode and decode, deliver_sm receipt decode, and GSM 7-bit
 * septet packing.
 *
 * Each case runs `--runs` times (default 7) over `--iters` iterations
 * (default 1,000,000); the table shows the median, min and max per
 * operation, and --json PATH writes the same numbers as JSON. The typical
 * submit_sm is an 11-digit source and destination, 50 characters of GSM
 * text and registered_delivery 1; the target for encode + decode of it is
 * under 200 ns.
 *
 *   bench_codec [--iters N] [--runs R] [--json PATH]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/gsm7.h"
#include "smpp/pdu.h"

#define MAX_RUNS 31

typedef struct result {
  const char *name;
  const char *unit; /* "ns/op" or "MB/s" */
  double median, min, max;
} result_t;

static volatile uint32_t sink; /* keeps results observable */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void summarise(result_t *r, double *v, int runs) {
  qsort(v, (size_t)runs, sizeof v[0], cmp_double);
  r->min = v[0];
  r->max = v[runs - 1];
  r->median = v[runs / 2];
}

/* ---- The cases --------------------------------------------------------- */

static const char text50[] =
    "Your verification code is 482913. It expires in 5m";

static void typical_submit_sm(sg_smpp_pdu_t *p, uint32_t seq) {
  sg_smpp_pdu_init(p, SG_SMPP_SUBMIT_SM, seq);
  sg_smpp_submit_sm_t *s = &p->body.submit_sm;
  s->source_addr_ton = 1;
  s->source_addr_npi = 1;
  memcpy(s->source_addr, "44770090012", 12);
  s->dest_addr_ton = 1;
  s->dest_addr_npi = 1;
  memcpy(s->destination_addr, "44770090045", 12);
  s->registered_delivery = 1;
  s->sm_length = (uint8_t)(sizeof text50 - 1);
  memcpy(s->short_message, text50, sizeof text50 - 1);
}

static size_t receipt_pdu(uint8_t *buf, size_t cap) {
  static const char text[] =
      "id:0123456789abcdef sub:001 dlvrd:001 submit date:2401011200 "
      "done date:2401011201 stat:DELIVRD err:000 text:Your verification";
  static const uint8_t nec[3] = {3, 0, 0};
  sg_smpp_pdu_t *p = sg_malloc(sizeof *p);
  size_t n = 0;
  if (p == NULL)
    return 0;
  sg_smpp_pdu_init(p, SG_SMPP_DELIVER_SM, 7);
  sg_smpp_deliver_sm_t *d = &p->body.deliver_sm;
  d->source_addr_ton = d->source_addr_npi = 1;
  strcpy(d->source_addr, "44770090045");
  d->dest_addr_ton = d->dest_addr_npi = 1;
  strcpy(d->destination_addr, "44770090012");
  d->esm_class = 0x04;
  d->sm_length = (uint8_t)(sizeof text - 1);
  memcpy(d->short_message, text, sizeof text - 1);
  sg_smpp_tlv_set_cstr(p, SG_SMPP_TLV_RECEIPTED_MESSAGE_ID, "0123456789abcdef");
  sg_smpp_tlv_set_int(p, SG_SMPP_TLV_MESSAGE_STATE, 2, 0);
  sg_smpp_tlv_set_bytes(p, SG_SMPP_TLV_NETWORK_ERROR_CODE, nec, 3);
  if (sg_smpp_pdu_encode(p, buf, cap, &n) != 0)
    n = 0;
  sg_free(p);
  return n;
}

/* Each bench function returns the time of one run in ns per operation. */

static double run_encode(long iters, sg_smpp_pdu_t *p) {
  uint8_t buf[512];
  size_t n = 0;
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    p->sequence_number = (uint32_t)i;
    if (sg_smpp_pdu_encode(p, buf, sizeof buf, &n) != 0)
      abort();
    sink += buf[n - 1];
  }
  return (now_ns() - t0) / (double)iters;
}

static double run_decode(long iters, const uint8_t *buf, size_t len,
                         sg_smpp_pdu_t *p) {
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    if (sg_smpp_pdu_decode(buf, len, p, NULL, NULL) != 0)
      abort();
    sink += p->sequence_number;
  }
  return (now_ns() - t0) / (double)iters;
}

static double run_roundtrip(long iters, sg_smpp_pdu_t *in, sg_smpp_pdu_t *out) {
  uint8_t buf[512];
  size_t n = 0;
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    in->sequence_number = (uint32_t)i;
    if (sg_smpp_pdu_encode(in, buf, sizeof buf, &n) != 0 ||
        sg_smpp_pdu_decode(buf, n, out, NULL, NULL) != 0)
      abort();
    sink += out->sequence_number;
  }
  return (now_ns() - t0) / (double)iters;
}

/* GSM 7-bit packing of 160-septet messages; returns MB/s of septets in. */
static double run_pack(long iters) {
  uint8_t septets[160], out[140];
  size_t n = 0;
  for (int i = 0; i < 160; i++)
    septets[i] = (uint8_t)((i * 37 + 11) & 0x7F);
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    septets[0] = (uint8_t)(i & 0x7F);
    if (sg_gsm7_pack(septets, sizeof septets, 0, out, sizeof out, &n) != 0)
      abort();
    sink += out[n - 1];
  }
  double ns = now_ns() - t0;
  return (double)iters * sizeof septets / (ns / 1e9) / 1e6;
}

/* ---- Output ------------------------------------------------------------ */

static void print_table(const result_t *r, int n, long iters, int runs) {
  printf("smsgate codec benchmark: %d runs of %ld iterations, one core\n\n",
         runs, iters);
  printf("%-34s %10s %10s %10s  %s\n", "case", "median", "min", "max", "unit");
  for (int i = 0; i < n; i++)
    printf("%-34s %10.1f %10.1f %10.1f  %s\n", r[i].name, r[i].median, r[i].min,
           r[i].max, r[i].unit);
}

static int write_json(const char *path, const result_t *r, int n, long iters,
                      int runs) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  fprintf(f,
          "{\n  \"benchmark\": \"codec\",\n  \"iterations\": %ld,\n"
          "  \"runs\": %d,\n  \"target_submit_sm_roundtrip_ns\": 200,\n"
          "  \"results\": [\n",
          iters, runs);
  for (int i = 0; i < n; i++)
    fprintf(f,
            "    {\"name\": \"%s\", \"unit\": \"%s\", \"median\": %.2f, "
            "\"min\": %.2f, \"max\": %.2f}%s\n",
            r[i].name, r[i].unit, r[i].median, r[i].min, r[i].max,
            i + 1 < n ? "," : "");
  fprintf(f, "  ]\n}\n");
  return fclose(f) == 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, long *iters, int *runs,
                      const char **json) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
      *iters = atol(argv[++i]);
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      *runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
      *json = argv[++i];
    else
      return -1;
  }
  return *iters > 0 && *runs > 0 && *runs <= MAX_RUNS ? 0 : -1;
}

int main(int argc, char **argv) {
  long iters = 1000000;
  int runs = 7;
  const char *json = NULL;
  if (parse_args(argc, argv, &iters, &runs, &json) != 0) {
    fprintf(stderr, "usage: %s [--iters N] [--runs R<=%d] [--json PATH]\n",
            argv[0], MAX_RUNS);
    return 2;
  }
  sg_smpp_pdu_t *a = sg_malloc(sizeof *a), *b = sg_malloc(sizeof *b);
  uint8_t sub[512], rcpt[512];
  size_t sub_len = 0, rcpt_len = receipt_pdu(rcpt, sizeof rcpt);
  if (a == NULL || b == NULL || rcpt_len == 0)
    return 1;
  typical_submit_sm(a, 1);
  if (sg_smpp_pdu_encode(a, sub, sizeof sub, &sub_len) != 0)
    return 1;

  result_t r[5] = {
      {"submit_sm encode", "ns/op", 0, 0, 0},
      {"submit_sm decode", "ns/op", 0, 0, 0},
      {"submit_sm encode+decode", "ns/op", 0, 0, 0},
      {"deliver_sm receipt decode", "ns/op", 0, 0, 0},
      {"gsm7 pack 160 septets", "MB/s", 0, 0, 0},
  };
  double v[5][MAX_RUNS];
  run_roundtrip(iters / 10 + 1, a, b); /* warm up */
  for (int k = 0; k < runs; k++) {
    v[0][k] = run_encode(iters, a);
    v[1][k] = run_decode(iters, sub, sub_len, b);
    v[2][k] = run_roundtrip(iters, a, b);
    v[3][k] = run_decode(iters, rcpt, rcpt_len, b);
    v[4][k] = run_pack(iters);
  }
  for (int i = 0; i < 5; i++)
    summarise(&r[i], v[i], runs);
  print_table(r, 5, iters, runs);
  printf("\nsubmit_sm is %zu octets, the receipt deliver_sm %zu; target for "
         "encode+decode: < 200 ns (%s)\n",
         sub_len, rcpt_len, r[2].median < 200.0 ? "met" : "NOT met");
  sg_free(a);
  sg_free(b);
  if (json != NULL && write_json(json, r, 5, iters, runs) != 0)
    return 1;
  return 0;
}
