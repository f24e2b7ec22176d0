/*
 * graph_fixture: the "order" flow of DESIGN.md built by hand, for unit tests of the
 * metrics and HTTP modules (which must not depend on the config loader).
 * Steps: 0 OrderPlaced (start), 1 PaymentAuthorized, 2 PaymentDeclined,
 * 3 InventoryReserved, 4 ShippingQuoted, 5 OrderConfirmed (end completed),
 * 6 OrderCancelled (end compensated). A second flow "refund" has two steps.
 */
#ifndef GRAPH_FIXTURE_H
#define GRAPH_FIXTURE_H

#include "engine/flowgraph.h"

#define S_(n) ((int64_t)(n)*1000000000)

static struct fg_step order_steps[] = {
	{ .name = "OrderPlaced", .start = true, .within_ns = FG_NO_DEADLINE, .outcome = -1 },
	{ .name = "PaymentAuthorized",
	    .after = FG_BIT(0),
	    .alts = FG_BIT(2),
	    .within_ns = S_(30),
	    .outcome = -1,
	    .retries = 3 },
	{ .name = "PaymentDeclined",
	    .after = FG_BIT(0),
	    .alts = FG_BIT(1),
	    .within_ns = S_(30),
	    .outcome = -1 },
	{ .name = "InventoryReserved", .after = FG_BIT(1), .within_ns = S_(10), .outcome = -1 },
	{ .name = "ShippingQuoted", .after = FG_BIT(1), .within_ns = S_(10), .outcome = -1 },
	{ .name = "OrderConfirmed",
	    .after = FG_BIT(3) | FG_BIT(4),
	    .within_ns = S_(5),
	    .outcome = 0 },
	{ .name = "OrderCancelled", .after = FG_BIT(2), .within_ns = S_(30), .outcome = 1 },
};
static char *order_outcomes[] = { "completed", "compensated" };
static struct fg_step refund_steps[] = {
	{ .name = "RefundRequested", .start = true, .within_ns = FG_NO_DEADLINE, .outcome = -1 },
	{ .name = "RefundIssued",
	    .after = FG_BIT(0),
	    .within_ns = S_(60),
	    .outcome = 0,
	    .owner = "refund-service" },
};
static char *refund_outcomes[] = { "completed" };
static struct fg_flow fixture_flows[] = {
	{ .name = "order",
	    .deadline_ns = S_(600),
	    .lateness_ns = S_(5),
	    .steps = order_steps,
	    .nsteps = 7,
	    .outcomes = order_outcomes,
	    .noutcomes = 2 },
	{ .name = "refund",
	    .deadline_ns = FG_NO_DEADLINE,
	    .lateness_ns = S_(5),
	    .steps = refund_steps,
	    .nsteps = 2,
	    .outcomes = refund_outcomes,
	    .noutcomes = 1 },
};
static const struct flowgraph fixture_graph = { .flows = fixture_flows, .nflows = 2 };

#endif
