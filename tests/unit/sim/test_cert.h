/* test_cert.h - a throw-away self-signed certificate for TLS tests, made
 * at run time (nothing secret committed, nothing that expires). Header-only
 * static functions that fail the running cmocka test on error. */
#ifndef SG_TEST_CERT_H
#define SG_TEST_CERT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#ifndef TC_UNUSED
#define TC_UNUSED __attribute__((unused))
#endif

/* A self-signed certificate for localhost and 127.0.0.1, made at run time
 * so that nothing secret is committed and nothing expires. */
static TC_UNUSED void tc_write_key_cert(const char *kpath, const char *cpath) {
  EVP_PKEY *pk = EVP_EC_gen("P-256");
  assert_non_null(pk);
  FILE *fp = fopen(kpath, "w");
  assert_non_null(fp);
  assert_int_equal(PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL), 1);
  fclose(fp);
  if (cpath == NULL) {
    EVP_PKEY_free(pk);
    return;
  }
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, pk);
  X509_NAME *n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                             (const unsigned char *)"localhost", -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  const struct {
    int nid;
    const char *v;
  } ext[] = {{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
             {NID_basic_constraints, "critical,CA:TRUE"},
             {NID_key_usage, "digitalSignature,keyCertSign"}};
  for (size_t i = 0; i < 3; i++) {
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, ext[i].nid, ext[i].v);
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  }
  assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
  fp = fopen(cpath, "w");
  assert_non_null(fp);
  assert_int_equal(PEM_write_X509(fp, x), 1);
  fclose(fp);
  X509_free(x);
  EVP_PKEY_free(pk);
}

#endif
