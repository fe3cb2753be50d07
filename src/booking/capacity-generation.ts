/** Bumped for a branch by every write of its capacity in this process, so cached reads of it start over. */
const generations = new Map<string, number>();
let anyGeneration = 0;

export function forgetBranchCapacity(branchId: string): void {
  generations.set(branchId, (generations.get(branchId) ?? 0) + 1);
  anyGeneration += 1;
  if (generations.size > 1_000) generations.clear();
}

export const capacityGeneration = (branchId: string): number => generations.get(branchId) ?? 0;
export const anyCapacityGeneration = (): number => anyGeneration;
