/**
 * `s` as V8's internalized string of its text (a property name is one, and the string table holds one per text): the
 * very string other internalized copies of the text are. A `===` site that only ever met internalized strings compares
 * pointers; one that met another string calls V8's StringEqual builtin at every compare. A name parsed or concatenated
 * is made internalized in place only when first used as a key (a ThinString until a scavenge replaces the references
 * to it, which depends on the GC's timing), so names compared per frame are internalized where they are made
 * (bench/README "The StringEqual trio is a state of one run (session 35)").
 */
export function internalized(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}
