/** The keys of A and B are the same. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;

/** T when it is an object whose fields are worth comparing one by one, never otherwise. */
type Nested<T> = T extends readonly unknown[] ? never : T extends string | number | boolean ? never : T;

/**
 * `true` when A and B are mutually assignable and, for objects, have the same keys with DeepSame
 * fields. Plain assignability is not enough: an extra optional field is assignable both ways.
 */
export type DeepSame<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [Nested<NonNullable<A>>] extends [never]
      ? true
      : SameKeys<Nested<NonNullable<A>>, Nested<NonNullable<B>>> extends true
        ? false extends {
            [K in keyof Nested<NonNullable<A>>]: DeepSame<Nested<NonNullable<A>>[K], Nested<NonNullable<B>>[K & keyof Nested<NonNullable<B>>]>;
          }[keyof Nested<NonNullable<A>>]
          ? false
          : true
        : false
    : false
  : false;
