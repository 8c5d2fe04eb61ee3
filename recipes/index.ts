// Every recipe's engine binding, for the server to register.
import type { RecipeBinding } from "../src/recipe-engine/index.js";
import { BarrierBinding } from "./double-barrier/binding.js";
import { ElectionBinding } from "./election/binding.js";
import { QueueBinding } from "./queue/binding.js";
import { ReadWriteLockBinding } from "./read-write-lock/binding.js";
import { SemaphoreBinding } from "./semaphore/binding.js";

export function allBindings(): RecipeBinding[] {
  return [new ReadWriteLockBinding(), new SemaphoreBinding(), new QueueBinding(), new BarrierBinding(), new ElectionBinding()];
}
