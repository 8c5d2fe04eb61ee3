// The recipe engine's face: recipes register bindings; server wires the engine.
export { RecipeEngine, failedCall, type EngineApi, type RecipeBinding, type ChildChange, type Move, type TreeReader } from "./engine.js";
