/*
 * event: helpers over the decoded event (see event.h for ownership: every string is
 * borrowed from the decoder until its next call).
 */
#include "decode/event.h"

#include <string.h>

const char *event_attr(const struct event *ev, const char *key)
{
	for (uint32_t i = 0; i < ev->nattrs; i++)
		if (!strcmp(ev->attrs[i].key, key))
			return ev->attrs[i].val;
	return NULL;
}
