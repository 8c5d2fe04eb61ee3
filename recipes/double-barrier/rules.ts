// Double barrier (ZooKeeper's recipes.md): each participant creates an ephemeral child
// of the barrier node; all enter once `count` children exist; all leave once none do.

export function canEnter(childCount: number, count: number): boolean {
  return childCount >= count;
}

export function canLeave(childCount: number): boolean {
  return childCount === 0;
}
