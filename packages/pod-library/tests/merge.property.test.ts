import { mergeValues } from "@ondemand-eks/pod-library";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const NUM_RUNS = 300;
const json = fc.jsonValue({ maxDepth: 3 });

/** Does a JSON value hold null anywhere? (null in a child means "remove".) */
function hasNull(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== "object") return false;
  return Object.values(value as object).some(hasNull);
}
const jsonWithoutNull = json.filter((value) => !hasNull(value));
const named = fc.uniqueArray(
  fc.record({ name: fc.constantFrom("a", "b", "c", "d", "e"), value: fc.integer() }),
  { selector: (item) => item.name, maxLength: 5 },
);

describe("mergeValues properties", () => {
  it("identity: merging nothing over a value gives the value", () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(mergeValues(value, undefined)).toEqual(value);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("idempotence: a value (without nulls) merged over itself is unchanged", () => {
    fc.assert(
      fc.property(jsonWithoutNull, (value) => {
        expect(mergeValues(value, value)).toEqual(value);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("null clears: a key the child sets to null is absent from the result", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), fc.string(), (parent, key) => {
        const merged = mergeValues(parent, { [key]: null }) as Record<string, unknown>;
        expect(Object.hasOwn(merged, key)).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("child wins: every leaf the child sets is the child's in the result", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.integer()),
        fc.dictionary(fc.string(), fc.integer()),
        (parent, child) => {
          const merged = mergeValues(parent, child) as Record<string, number>;
          for (const [key, value] of Object.entries(child)) expect(merged[key]).toBe(value);
          for (const [key, value] of Object.entries(parent))
            if (!Object.hasOwn(child, key)) expect(merged[key]).toBe(value);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("named lists: each name once, parent order first, then the child's new names", () => {
    fc.assert(
      fc.property(named, named, (parent, child) => {
        const merged = mergeValues(parent, child) as { name: string; value: number }[];
        const parentNames = parent.map((p) => p.name);
        const expected = [
          ...parentNames,
          ...child.map((c) => c.name).filter((n) => !parentNames.includes(n)),
        ];
        expect(merged.map((m) => m.name)).toEqual(expected);
        for (const item of merged) {
          const fromChild = child.find((c) => c.name === item.name);
          expect(item.value).toBe(
            fromChild ? fromChild.value : parent.find((p) => p.name === item.name)?.value,
          );
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("purity: inputs are never mutated", () => {
    fc.assert(
      fc.property(json, json, (parent, child) => {
        const before = JSON.stringify([parent, child]);
        mergeValues(parent, child);
        expect(JSON.stringify([parent, child])).toBe(before);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
