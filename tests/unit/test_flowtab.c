/*
 * test_flowtab: the instance table against a naive model on random create / alias /
 * detach / release sequences (index growth, backward-shift deletion, chains of
 * instances sharing a key, long keys in extras), with flowtab_check after each step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/flowtab.h"

#define KEYS 3000
#define MAXI 20000

struct model {
	struct inst *inst[MAXI]; /* live instances we created, by creation number */
	char key[MAXI][64];
	int detached[MAXI];
	int n;
};

static uint64_t rng = 0x853c49e6748fea9bULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void make_key(char *buf, size_t len, uint32_t k)
{
	if (k % 7 == 0) /* longer than FT_KEYCAP: lives in the extras */
		snprintf(buf, len, "a-rather-long-correlation-identifier-%u", k);
	else
		snprintf(buf, len, "k%u", k);
}

/* The newest non-detached instance created with key k, as the table should say. */
static struct inst *model_head(const struct model *m, const char *key)
{
	for (int i = m->n - 1; i >= 0; i--)
		if (m->inst[i] && !m->detached[i] && strcmp(m->key[i], key) == 0)
			return m->inst[i];
	return NULL;
}

static void test_random_against_model(void **state)
{
	(void)state;
	struct flowtab *t = flowtab_new(5);
	struct model *m = calloc(1, sizeof(*m));
	char key[64];
	for (int round = 0; round < 60000 && m->n < MAXI; round++) {
		make_key(key, sizeof(key), rnd() % KEYS);
		uint32_t h = flowtab_hash(key, strlen(key));
		switch (rnd() % 5) {
		case 0:
		case 1: {
			struct inst *i = flowtab_create(t, key, strlen(key), h);
			assert_non_null(i);
			assert_string_equal(flowtab_inst_key(t, i), key);
			struct inst *old = model_head(m, key);
			assert_int_equal(i->chain_prev, old ? old->idx : FT_NONE);
			m->inst[m->n] = i;
			snprintf(m->key[m->n], sizeof(m->key[0]), "%s", key);
			m->n++;
			break;
		}
		case 2: {
			int j = m->n ? (int)(rnd() % (uint32_t)m->n) : -1;
			if (j < 0 || !m->inst[j])
				break;
			if (rnd() % 2) {
				flowtab_detach(t, m->inst[j]);
				m->detached[j] = 1;
			} else {
				flowtab_release(t, m->inst[j]);
				m->inst[j] = NULL;
			}
			break;
		}
		default: {
			struct inst *got = flowtab_find(t, key, strlen(key), h);
			assert_ptr_equal(got, model_head(m, key));
		}
		}
		if (round % 97 == 0)
			assert_int_equal(flowtab_check(t), 0);
	}
	/* every key resolves as the model says */
	for (uint32_t k = 0; k < KEYS; k++) {
		make_key(key, sizeof(key), k);
		assert_ptr_equal(flowtab_find(t, key, strlen(key), flowtab_hash(key, strlen(key))),
		    model_head(m, key));
	}
	assert_int_equal(flowtab_check(t), 0);
	flowtab_free(t);
	free(m);
}

static void test_aliases(void **state)
{
	(void)state;
	struct flowtab *t = flowtab_new(3);
	struct inst *a = flowtab_create(t, "order-1", 7, flowtab_hash("order-1", 7));
	assert_int_equal(flowtab_link(t, a, "pay-9", 5), 0);
	assert_ptr_equal(flowtab_find(t, "pay-9", 5, flowtab_hash("pay-9", 5)), a);
	flowtab_release(t, a);
	assert_null(flowtab_find(t, "pay-9", 5, flowtab_hash("pay-9", 5)));
	assert_null(flowtab_find(t, "order-1", 7, flowtab_hash("order-1", 7)));
	assert_int_equal(flowtab_count(t), 0);
	assert_int_equal(flowtab_check(t), 0);
	flowtab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_aliases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
