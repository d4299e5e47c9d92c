/*
 * links.c — the links of a pack's files: which attributes of which HTML
 * elements name another file, the url(…) of style sheets, and where a link
 * leads inside the pack. `kho pack lint` checks them; a collection's export
 * follows them to carry each lesson's images and style sheets along.
 */
#include "convert-private.h"

#include <libxml/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const link_attrs[][2] = {
	{ "a", "href" }, { "link", "href" }, { "img", "src" }, { "script", "src" },
	{ "source", "src" }, { "video", "src" }, { "video", "poster" }, { "audio", "src" },
	{ "iframe", "src" }, { "embed", "src" }, { "object", "data" }, { "track", "src" },
	{ "image", "href" }, { "use", "href" },
};

void pack_links_of_element(const xmlNode *n, pack_link_fn fn, void *payload)
{
	for (size_t i = 0; i < sizeof link_attrs / sizeof link_attrs[0]; i++) {
		if (strcasecmp((const char *)n->name, link_attrs[i][0]))
			continue;
		xmlChar *v = xmlGetProp(n, (const xmlChar *)link_attrs[i][1]);
		if (v)
			fn(payload, (const char *)n->name, (const char *)v);
		xmlFree(v);
	}
}

void pack_links_of_css(const char *css, pack_link_fn fn, void *payload)
{
	for (const char *p = strstr(css, "url("); p; p = strstr(p + 4, "url(")) {
		const char *s = p + 4;
		s += strspn(s, " \t\"'");
		size_t n = strcspn(s, ")\"' \t");
		char ref[512];
		if (n < sizeof ref) {
			memcpy(ref, s, n);
			ref[n] = '\0';
			fn(payload, "css", ref);
		}
	}
}

pack_link_kind pack_link_resolve(char **path, const char *from, const char *ref)
{
	*path = NULL;
	if (!ref || !*ref || ref[0] == '#')
		return PACK_LINK_NONE;
	if (!strncasecmp(ref, "http://", 7) || !strncasecmp(ref, "https://", 8) ||
	    !strncmp(ref, "//", 2))
		return PACK_LINK_INTERNET;
	if (strchr(ref, ':')) /* mailto:, data:, tel:, javascript: … */
		return PACK_LINK_NONE;
	xmlChar *built = xmlBuildURI((const xmlChar *)ref, (const xmlChar *)from);
	char *unescaped = built ? xmlURIUnescapeString((const char *)built, 0, NULL) : NULL;
	xmlFree(built);
	if (!unescaped)
		return PACK_LINK_INVALID;
	unescaped[strcspn(unescaped, "?#")] = '\0';
	if (!strncmp(unescaped, "../", 3) || unescaped[0] == '/' || strstr(unescaped, "/../") ||
	    !*unescaped) {
		xmlFree(unescaped);
		return PACK_LINK_OUTSIDE;
	}
	*path = strdup(unescaped);
	xmlFree(unescaped);
	return *path ? PACK_LINK_FILE : PACK_LINK_INVALID;
}
