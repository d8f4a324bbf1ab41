/* icalcheck: libical's own reading of iCalendar files, for the tests.
 *
 * For each file named on the command line: parse it with libical, run libical's
 * RFC 5546 (iTIP) restriction checks on the calendar (they apply when it has a METHOD),
 * and print every X-LIC-ERROR libical attached, as "file: component: error". The exit
 * status is 1 when anything was found, 2 when a file cannot be read, 0 otherwise.
 *
 * Built by tests/test_calendars_standard.py with:  cc icalcheck.c $(pkg-config --libs libical)
 */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>

static char *slurp(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (text && fread(text, 1, (size_t)size, file) != (size_t)size) { free(text); text = NULL; }
    if (text) text[size] = '\0';
    fclose(file);
    return text;
}

static int report(const char *path, icalcomponent *component) {
    int found = 0;
    for (icalproperty *p = icalcomponent_get_first_property(component, ICAL_XLICERROR_PROPERTY);
         p; p = icalcomponent_get_next_property(component, ICAL_XLICERROR_PROPERTY)) {
        printf("%s: %s: %s\n", path, icalcomponent_kind_to_string(icalcomponent_isa(component)),
               icalproperty_get_xlicerror(p));
        found++;
    }
    for (icalcomponent *c = icalcomponent_get_first_component(component, ICAL_ANY_COMPONENT);
         c; c = icalcomponent_get_next_component(component, ICAL_ANY_COMPONENT))
        found += report(path, c);
    return found;
}

int main(int argc, char **argv) {
    int found = 0;
    for (int k = 1; k < argc; k++) {
        char *text = slurp(argv[k]);
        if (!text) { fprintf(stderr, "%s: cannot read\n", argv[k]); return 2; }
        icalcomponent *calendar = icalparser_parse_string(text);
        free(text);
        if (!calendar) { printf("%s: not parsed\n", argv[k]); found++; continue; }
        icalrestriction_check(calendar);
        found += report(argv[k], calendar);
        icalcomponent_free(calendar);
    }
    return found ? 1 : 0;
}
