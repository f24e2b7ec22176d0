/*
 * waterfall: one stored flow's timeline as text for people (`choreoscope history` on
 * a terminal, or --format waterfall): a header naming the flow, its correlation id,
 * outcome, duration, verdict kinds and who owes the step it still awaits, then one row
 * per event in arrival order (offset from the flow's start, a bar scaled to the flow's
 * span from the previous event to this one, or a `<` at its time for an event older
 * than the one before it; type, source, topic/partition@offset), with each verdict as
 * a `!` row at its time.
 *
 * Input is the API's timeline document (docs/API.md, /api/v1/flows/{flow}/{id}), the
 * same text the JSON output prints, so both formats show one truth. Durations and
 * times go through lib/timefmt (the TUI's formatter). Pure apart from writing to
 * `out`; any thread.
 */
#ifndef CHOREOSCOPE_WATERFALL_H
#define CHOREOSCOPE_WATERFALL_H

#include <stddef.h>
#include <stdio.h>

#define WATERFALL_BAR_MIN 8
#define WATERFALL_BAR_MAX 200

/* Writes the waterfall of the document doc[0..len) to out, with a bar of `barw`
 * columns (clamped to [WATERFALL_BAR_MIN, WATERFALL_BAR_MAX]). 0, or -1 with a reason
 * in err when doc is not a timeline document (nothing written then). */
int waterfall_write(FILE *out, const char *doc, size_t len, int barw, char *err, size_t errlen);

#endif
