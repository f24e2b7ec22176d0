/*
 * flows: the demo flows as event templates, and every injected fault as a template
 * whose verdicts under docs/semantics.md are known exactly.
 *
 * The graphs are those of config/demo.yaml (all flows: lateness 1 s):
 *   order    (deadline 15 s) OrderPlaced -> PaymentAuthorized | PaymentDeclined (alts,
 *            within 3 s) -> InventoryReserved | InventoryFailed (alts, 3 s);
 *            InventoryReserved -> OrderShipped (4 s, completed);
 *            InventoryFailed -> PaymentRefunded (3 s);
 *            after_any [PaymentDeclined, PaymentRefunded] -> OrderCancelled (3 s, compensated)
 *   quote    (deadline 10 s) QuoteRequested -> Carrier{A,B,C}Quoted (4 s) ->
 *            QuoteSelected (all three, join_within 1.5 s, within 2 s, completed)
 *   shipment (deadline 8 s) ShipmentRequested -> PickupScheduled (3 s, retries 2) ->
 *            PickedUp (3 s) -> CustomerNotified (optional), Delivered (4 s, completed)
 *
 * Margins: a faultless flow keeps every gap <= 1.5 s (deadlines 3-4 s), every fan-in
 * spread <= 1 s (join_within 1.5 s) and ends within 5 s (deadlines 8-15 s), so no
 * verdict can come from jitter. Every fault template keeps >= 100 ms away from each
 * boundary it must not cross, and every event is sent at its own event time except a
 * redelivery (sent <= 300 ms after the original, well within lateness), so the
 * stream is in event-time order and no verdict depends on the clock (docs/semantics.md,
 * "Determinism"). The comment above each template lists its verdicts and why.
 */
#include <assert.h>
#include <string.h>
#include "gen.h"

#define O GEN_ORDER
#define Q GEN_QUOTE
#define S GEN_SHIPMENT
const struct gen_type_info gen_types[GEN_NTYPES] = {
	[T_ORDER_PLACED] = { "OrderPlaced", "orders", O },
	[T_PAYMENT_AUTHORIZED] = { "PaymentAuthorized", "payments", O },
	[T_PAYMENT_DECLINED] = { "PaymentDeclined", "payments", O },
	[T_INVENTORY_RESERVED] = { "InventoryReserved", "inventory", O },
	[T_INVENTORY_FAILED] = { "InventoryFailed", "inventory", O },
	[T_PAYMENT_REFUNDED] = { "PaymentRefunded", "payments", O },
	[T_ORDER_SHIPPED] = { "OrderShipped", "shipping", O },
	[T_ORDER_CANCELLED] = { "OrderCancelled", "orders", O },
	[T_FRAUD_CHECK] = { "FraudCheckRequested", "fraud", O },
	[T_QUOTE_REQUESTED] = { "QuoteRequested", "quotes", Q },
	[T_CARRIER_A] = { "CarrierAQuoted", "carrier-a", Q },
	[T_CARRIER_B] = { "CarrierBQuoted", "carrier-b", Q },
	[T_CARRIER_C] = { "CarrierCQuoted", "carrier-c", Q },
	[T_QUOTE_SELECTED] = { "QuoteSelected", "quotes", Q },
	[T_SHIPMENT_REQUESTED] = { "ShipmentRequested", "shipping", S },
	[T_PICKUP_SCHEDULED] = { "PickupScheduled", "dispatch", S },
	[T_PICKED_UP] = { "PickedUp", "dispatch", S },
	[T_CUSTOMER_NOTIFIED] = { "CustomerNotified", "notifications", S },
	[T_DELIVERED] = { "Delivered", "dispatch", S },
	[T_TICK] = { "GeneratorTick", "choreoscope-gen", GEN_NOFLOW },
};
#undef O
#undef Q
#undef S

const char *const gen_flow_names[GEN_NFLOWS] = { "order", "quote", "shipment" };

const char *const gen_fault_names[GF_NFAULTS] = {
	[GF_STALLED] = "stalled",
	[GF_MISSING] = "missing",
	[GF_OUT_OF_ORDER] = "out_of_order",
	[GF_DUPLICATE] = "duplicate",
	[GF_DOUBLE_STEP] = "double_step",
	[GF_RETRY_STORM] = "retry_storm",
	[GF_UNEXPECTED] = "unexpected",
	[GF_JOIN_WAIT] = "join_wait",
	[GF_ABANDONED] = "abandoned",
};

int gen_fault_index(const char *name)
{
	for (int i = 0; i < GF_NFAULTS; i++)
		if (strcmp(gen_fault_names[i], name) == 0)
			return i;
	return -1;
}

struct planner {
	struct gen_plan *p;
	struct gen_rng *r;
	uint64_t flow_no;
	uint8_t next_id;
	uint8_t attempts[GEN_NTYPES];
};

/* A random gap in [lo, hi] milliseconds, as µs. */
static int64_t ms(struct planner *pl, int lo, int hi)
{
	return gen_rng_range(pl->r, (int64_t)lo * 1000, (int64_t)hi * 1000);
}

/* Appends an event sent at its own event time `t`; returns t. */
static int64_t add(struct planner *pl, enum gen_type type, int64_t t)
{
	struct gen_plan *p = pl->p;
	assert(p->nev < GEN_MAX_PLAN);
	assert(p->nev == 0 || p->ev[p->nev - 1].emit_us <= t);
	struct gen_event *e = &p->ev[p->nev++];
	e->emit_us = e->time_us = t;
	e->flow_no = pl->flow_no;
	e->order = 0;
	e->flow = (uint8_t)p->flow;
	e->type = (uint8_t)type;
	e->id_seq = pl->next_id++;
	e->attempt = ++pl->attempts[type];
	p->end_us = t;
	return t;
}

/* Re-sends event `idx` unchanged (same id, same event time) at `emit`. */
static void redeliver(struct planner *pl, int idx, int64_t emit)
{
	struct gen_plan *p = pl->p;
	assert(p->nev < GEN_MAX_PLAN && p->ev[p->nev - 1].emit_us <= emit);
	p->ev[p->nev] = p->ev[idx];
	p->ev[p->nev].emit_us = emit;
	p->nev++;
	p->end_us = emit;
}

static void verdict(struct planner *pl, const char *kind, enum gen_type step)
{
	assert(pl->p->nv < GEN_MAX_VERDICTS);
	pl->p->v[pl->p->nv++] = (struct gen_verdict){ kind, step };
}

/* ---- order ---- */

/* Faultless: one of the three paths; every gap 0.2-1.5 s, all under 5 s. */
static void order_ok(struct planner *pl, int64_t t)
{
	double u = gen_rng_unit(pl->r);
	add(pl, T_ORDER_PLACED, t);
	if (u < 0.15) { /* declined: compensated */
		t = add(pl, T_PAYMENT_DECLINED, t + ms(pl, 200, 1000));
		add(pl, T_ORDER_CANCELLED, t + ms(pl, 200, 1000));
		return;
	}
	t = add(pl, T_PAYMENT_AUTHORIZED, t + ms(pl, 200, 1000));
	if (u < 0.30) { /* inventory failed, payment refunded: compensated */
		t = add(pl, T_INVENTORY_FAILED, t + ms(pl, 200, 1000));
		t = add(pl, T_PAYMENT_REFUNDED, t + ms(pl, 200, 1000));
		add(pl, T_ORDER_CANCELLED, t + ms(pl, 200, 1000));
		return;
	}
	t = add(pl, T_INVENTORY_RESERVED, t + ms(pl, 200, 1000));
	add(pl, T_ORDER_SHIPPED, t + ms(pl, 200, 1500));
}

/* OrderShipped never comes. It became expected at tR (InventoryFailed stopped being
 * expected when InventoryReserved happened) and stalls at tR + 4 s; the order never
 * closes, so at O + 15 s it is abandoned, OrderShipped being the only step awaited.
 * => stalled OrderShipped, abandoned OrderShipped. */
static void order_stall_never(struct planner *pl, int64_t t)
{
	pl->p->variant = "order_shipped_never";
	add(pl, T_ORDER_PLACED, t);
	t = add(pl, T_PAYMENT_AUTHORIZED, t + ms(pl, 200, 1000));
	add(pl, T_INVENTORY_RESERVED, t + ms(pl, 200, 1000));
	verdict(pl, "stalled", T_ORDER_SHIPPED);
	verdict(pl, "abandoned", T_ORDER_SHIPPED);
}

/* OrderShipped comes 0.5-1.5 s after its deadline tR + 4 s (at most 7.5 s after
 * open, inside the 15 s deadline): it carries an event time after T + w.
 * => stalled OrderShipped, late OrderShipped; the order completes. */
static void order_stall_late(struct planner *pl, int64_t t)
{
	pl->p->variant = "order_shipped_late";
	add(pl, T_ORDER_PLACED, t);
	t = add(pl, T_PAYMENT_AUTHORIZED, t + ms(pl, 200, 1000));
	t = add(pl, T_INVENTORY_RESERVED, t + ms(pl, 200, 1000));
	add(pl, T_ORDER_SHIPPED, t + 4000000 + ms(pl, 500, 1500));
	verdict(pl, "stalled", T_ORDER_SHIPPED);
	verdict(pl, "late", T_ORDER_SHIPPED);
}

/* Payment never answers: both alternatives were expected at open with the same
 * deadline (+3 s) and each stalls; at +15 s the order is abandoned awaiting both,
 * and the tie goes to declaration order.
 * => stalled PaymentAuthorized, stalled PaymentDeclined, abandoned PaymentAuthorized. */
static void order_stall_payment(struct planner *pl, int64_t t)
{
	pl->p->variant = "payment_never_answered";
	add(pl, T_ORDER_PLACED, t);
	verdict(pl, "stalled", T_PAYMENT_AUTHORIZED);
	verdict(pl, "stalled", T_PAYMENT_DECLINED);
	verdict(pl, "abandoned", T_PAYMENT_AUTHORIZED);
}

/* InventoryReserved never comes; OrderShipped does, 0.5-2 s after
 * PaymentAuthorized, and closes the order. InventoryReserved/InventoryFailed were
 * expected at tA with deadline tA + 3 s, after the close: not judged. At
 * tShipped + 1 s (lateness) InventoryReserved is still absent.
 * => missing InventoryReserved. */
static void order_missing(struct planner *pl, int64_t t)
{
	pl->p->variant = "shipped_without_reserved";
	add(pl, T_ORDER_PLACED, t);
	t = add(pl, T_PAYMENT_AUTHORIZED, t + ms(pl, 200, 1000));
	add(pl, T_ORDER_SHIPPED, t + ms(pl, 500, 2000));
	verdict(pl, "missing", T_INVENTORY_RESERVED);
}

/* The compensation path with PaymentRefunded (0.3-0.6 s after PaymentAuthorized)
 * before its predecessor InventoryFailed, which comes 1.2-1.5 s after it: later than
 * tRefunded + lateness (missing, then late), yet within its own 3 s from tA.
 * OrderCancelled (expected at tRefunded, 3 s) follows 0.2-0.4 s after it.
 * => missing InventoryFailed, late InventoryFailed; compensated. */
static void order_missing_late(struct planner *pl, int64_t t)
{
	pl->p->variant = "refund_before_failure";
	add(pl, T_ORDER_PLACED, t);
	t = add(pl, T_PAYMENT_AUTHORIZED, t + ms(pl, 200, 1000));
	t = add(pl, T_PAYMENT_REFUNDED, t + ms(pl, 300, 600));
	t = add(pl, T_INVENTORY_FAILED, t + ms(pl, 1200, 1500));
	add(pl, T_ORDER_CANCELLED, t + ms(pl, 200, 400));
	verdict(pl, "missing", T_INVENTORY_FAILED);
	verdict(pl, "late", T_INVENTORY_FAILED);
}

/* InventoryReserved arrives before PaymentAuthorized, which follows 0.1-0.6 s
 * later (< lateness 1 s, and 1.6 s after open at most: inside its own 3 s).
 * OrderShipped became expected at tR and comes within 1.6 s of it.
 * => out_of_order PaymentAuthorized. */
static void order_out_of_order(struct planner *pl, int64_t t)
{
	pl->p->variant = "reserved_before_authorized";
	add(pl, T_ORDER_PLACED, t);
	t = add(pl, T_INVENTORY_RESERVED, t + ms(pl, 200, 1000));
	t = add(pl, T_PAYMENT_AUTHORIZED, t + ms(pl, 100, 600));
	add(pl, T_ORDER_SHIPPED, t + ms(pl, 200, 1000));
	verdict(pl, "out_of_order", T_PAYMENT_AUTHORIZED);
}

/* The happy path with one extra event between PaymentAuthorized (tA) and
 * InventoryReserved (tA + 0.4-1 s), placed by `extra`. */
static void order_with_extra(
    struct planner *pl, int64_t t, void (*extra)(struct planner *, int idx_auth, int64_t tA))
{
	add(pl, T_ORDER_PLACED, t);
	t = add(pl, T_PAYMENT_AUTHORIZED, t + ms(pl, 200, 1000));
	extra(pl, pl->p->nev - 1, t);
	t = add(pl, T_INVENTORY_RESERVED, t + ms(pl, 400, 1000));
	add(pl, T_ORDER_SHIPPED, t + ms(pl, 200, 1500));
}

/* PaymentAuthorized redelivered (same id, same event time) 50-300 ms later.
 * => duplicate PaymentAuthorized. */
static void extra_redeliver(struct planner *pl, int idx, int64_t tA)
{
	redeliver(pl, idx, tA + ms(pl, 50, 300));
	verdict(pl, "duplicate", T_PAYMENT_AUTHORIZED);
}
/* PaymentAuthorized again with a new id (retries 0), 100-300 ms later; the next
 * steps are on time counted from either occurrence.
 * => double_step PaymentAuthorized. */
static void extra_again(struct planner *pl, int idx, int64_t tA)
{
	(void)idx;
	add(pl, T_PAYMENT_AUTHORIZED, tA + ms(pl, 100, 300));
	verdict(pl, "double_step", T_PAYMENT_AUTHORIZED);
}
/* A type no flow declares, for this open order. The verdict's step is the type.
 * => unexpected FraudCheckRequested. */
static void extra_undeclared(struct planner *pl, int idx, int64_t tA)
{
	(void)idx;
	add(pl, T_FRAUD_CHECK, tA + ms(pl, 100, 300));
	verdict(pl, "unexpected", T_FRAUD_CHECK);
}
/* PaymentDeclined after its alternative PaymentAuthorized happened: it does not
 * count as happened (OrderCancelled is not expected).
 * => unexpected PaymentDeclined. */
static void extra_alternative(struct planner *pl, int idx, int64_t tA)
{
	(void)idx;
	add(pl, T_PAYMENT_DECLINED, tA + ms(pl, 100, 300));
	verdict(pl, "unexpected", T_PAYMENT_DECLINED);
}

static void order_duplicate(struct planner *pl, int64_t t)
{
	pl->p->variant = "payment_redelivered";
	order_with_extra(pl, t, extra_redeliver);
}
static void order_double_step(struct planner *pl, int64_t t)
{
	pl->p->variant = "payment_twice";
	order_with_extra(pl, t, extra_again);
}
static void order_unexpected_type(struct planner *pl, int64_t t)
{
	pl->p->variant = "undeclared_type";
	order_with_extra(pl, t, extra_undeclared);
}
static void order_unexpected_alt(struct planner *pl, int64_t t)
{
	pl->p->variant = "declined_after_authorized";
	order_with_extra(pl, t, extra_alternative);
}

/* ---- quote ---- */

static const enum gen_type carriers[3] = { T_CARRIER_A, T_CARRIER_B, T_CARRIER_C };

/* Adds the carrier quotes at the given offsets from `t`, in time order (skipping
 * negative offsets); returns the time of the last one. */
static int64_t add_quotes(struct planner *pl, int64_t t, const int64_t off[3])
{
	int done[3] = { 0, 0, 0 };
	int64_t last = t;
	for (int n = 0; n < 3; n++) {
		int best = -1;
		for (int i = 0; i < 3; i++)
			if (!done[i] && off[i] >= 0 && (best < 0 || off[i] < off[best]))
				best = i;
		if (best < 0)
			break;
		done[best] = 1;
		last = add(pl, carriers[best], t + off[best]);
	}
	return last;
}

/* Faultless: quotes 0.2-1.2 s after the request (spread <= 1 s < join_within
 * 1.5 s), selection 0.2-1 s after the last (within 2 s). */
static void quote_ok(struct planner *pl, int64_t t)
{
	int64_t off[3];
	add(pl, T_QUOTE_REQUESTED, t);
	for (int i = 0; i < 3; i++)
		off[i] = ms(pl, 200, 1200);
	int64_t last = add_quotes(pl, t, off);
	add(pl, T_QUOTE_SELECTED, last + ms(pl, 200, 1000));
}

/* One carrier is 2-2.8 s slower than the first quote F (> join_within 1.5 s) but
 * within its own 4 s; the selection follows it within 0.2-0.8 s.
 * => join_wait QuoteSelected. */
static void quote_join_wait(struct planner *pl, int64_t t)
{
	int64_t off[3];
	int slow = (int)gen_rng_range(pl->r, 0, 2);
	pl->p->variant = "slow_carrier";
	add(pl, T_QUOTE_REQUESTED, t);
	int64_t first = ms(pl, 200, 500);
	for (int i = 0; i < 3; i++)
		off[i] = i == slow ? first + ms(pl, 2000, 2800) : first + ms(pl, 0, 1000);
	off[(slow + 1) % 3] = first;
	int64_t last = add_quotes(pl, t, off);
	add(pl, T_QUOTE_SELECTED, last + ms(pl, 200, 800));
	verdict(pl, "join_wait", T_QUOTE_SELECTED);
}

/* One carrier never quotes: it stalls at +4 s; the join waited past F + 1.5 s; the
 * quote never closes and is abandoned at +10 s awaiting that carrier (the selection
 * never became expected). => stalled Carrier, join_wait QuoteSelected,
 * abandoned Carrier. */
static void quote_stall(struct planner *pl, int64_t t)
{
	int64_t off[3];
	int gone = (int)gen_rng_range(pl->r, 0, 2);
	pl->p->variant = "carrier_never_quotes";
	add(pl, T_QUOTE_REQUESTED, t);
	for (int i = 0; i < 3; i++)
		off[i] = i == gone ? -1 : ms(pl, 200, 1200);
	add_quotes(pl, t, off);
	verdict(pl, "stalled", carriers[gone]);
	verdict(pl, "join_wait", T_QUOTE_SELECTED);
	verdict(pl, "abandoned", carriers[gone]);
}

/* ---- shipment ---- */

/* Faultless: PickupScheduled 1-3 times (retries 2), 0.1-0.3 s apart; PickedUp
 * <= 1.6 s after the first; CustomerNotified (optional) half the time, before
 * Delivered; Delivered 0.4-1.2 s after PickedUp. All under 4 s. */
static void shipment_ok(struct planner *pl, int64_t t)
{
	add(pl, T_SHIPMENT_REQUESTED, t);
	t = add(pl, T_PICKUP_SCHEDULED, t + ms(pl, 200, 1000));
	int extra = (int)gen_rng_range(pl->r, 0, 2);
	for (int i = 0; i < extra; i++)
		t = add(pl, T_PICKUP_SCHEDULED, t + ms(pl, 100, 300));
	int64_t tp = add(pl, T_PICKED_UP, t + ms(pl, 200, 1000));
	if (gen_rng_unit(pl->r) < 0.5)
		add(pl, T_CUSTOMER_NOTIFIED, tp + ms(pl, 100, 300));
	add(pl, T_DELIVERED, tp + ms(pl, 400, 1200));
}

/* PickupScheduled 4-6 times (more than retries + 1 = 3), 0.1-0.3 s apart; PickedUp
 * 0.2-0.6 s after the last, <= 2.1 s after the first (within 3 s).
 * => retry_storm PickupScheduled. */
static void shipment_retry_storm(struct planner *pl, int64_t t)
{
	pl->p->variant = "pickup_retried";
	add(pl, T_SHIPMENT_REQUESTED, t);
	t = add(pl, T_PICKUP_SCHEDULED, t + ms(pl, 200, 1000));
	int n = (int)gen_rng_range(pl->r, 4, 6);
	for (int i = 1; i < n; i++)
		t = add(pl, T_PICKUP_SCHEDULED, t + ms(pl, 100, 300));
	t = add(pl, T_PICKED_UP, t + ms(pl, 200, 600));
	add(pl, T_DELIVERED, t + ms(pl, 400, 1200));
	verdict(pl, "retry_storm", T_PICKUP_SCHEDULED);
}

/* Every step on time, the whole too slow: PickupScheduled at 2.3-2.7 s, PickedUp
 * 2.3-2.7 s later, Delivered at O + 8.1-8.5 s (< PickedUp + 4 s; <= deadline +
 * lateness). At O + 8 s Delivered is the only step awaited.
 * => abandoned Delivered (the flow closes as abandoned, not completed). */
static void shipment_abandoned(struct planner *pl, int64_t t)
{
	pl->p->variant = "slow_delivery";
	int64_t o = add(pl, T_SHIPMENT_REQUESTED, t);
	t = add(pl, T_PICKUP_SCHEDULED, t + ms(pl, 2300, 2700));
	add(pl, T_PICKED_UP, t + ms(pl, 2300, 2700));
	add(pl, T_DELIVERED, o + 8000000 + ms(pl, 100, 500));
	verdict(pl, "abandoned", T_DELIVERED);
}

/* ---- choice ---- */

typedef void (*template_fn)(struct planner *, int64_t);
struct fault_template {
	enum gen_fault fault;
	enum gen_flow flow;
	template_fn fn;
};
static const struct fault_template templates[] = {
	{ GF_STALLED, GEN_ORDER, order_stall_never },
	{ GF_STALLED, GEN_ORDER, order_stall_late },
	{ GF_STALLED, GEN_QUOTE, quote_stall },
	{ GF_STALLED, GEN_ORDER, order_stall_payment },
	{ GF_MISSING, GEN_ORDER, order_missing },
	{ GF_MISSING, GEN_ORDER, order_missing_late },
	{ GF_OUT_OF_ORDER, GEN_ORDER, order_out_of_order },
	{ GF_DUPLICATE, GEN_ORDER, order_duplicate },
	{ GF_DOUBLE_STEP, GEN_ORDER, order_double_step },
	{ GF_RETRY_STORM, GEN_SHIPMENT, shipment_retry_storm },
	{ GF_UNEXPECTED, GEN_ORDER, order_unexpected_type },
	{ GF_UNEXPECTED, GEN_ORDER, order_unexpected_alt },
	{ GF_JOIN_WAIT, GEN_QUOTE, quote_join_wait },
	{ GF_ABANDONED, GEN_SHIPMENT, shipment_abandoned },
};
#define NTEMPLATES (sizeof templates / sizeof templates[0])

void gen_plan_flow(struct gen_rng *r, uint64_t flow_no, int64_t start_us, enum gen_fault fault,
    struct gen_plan *out)
{
	struct planner pl = { .p = out, .r = r, .flow_no = flow_no };
	out->nev = out->nv = 0;
	out->fault = fault;
	out->variant = "";
	if (fault == GF_NONE) {
		double u = gen_rng_unit(r);
		out->flow = u < 0.5 ? GEN_ORDER : u < 0.75 ? GEN_QUOTE : GEN_SHIPMENT;
		static const template_fn ok[GEN_NFLOWS] = { order_ok, quote_ok, shipment_ok };
		ok[out->flow](&pl, start_us);
		return;
	}
	size_t idx[NTEMPLATES], n = 0;
	for (size_t i = 0; i < NTEMPLATES; i++)
		if (templates[i].fault == fault)
			idx[n++] = i;
	assert(n > 0);
	const struct fault_template *tp = &templates[idx[gen_rng_range(r, 0, (int64_t)n - 1)]];
	out->flow = tp->flow;
	tp->fn(&pl, start_us);
}
