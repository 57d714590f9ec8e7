// Path of a hand-made fixture under test/data/fixtures (each file holds one kind of defect).
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

export function fixture(name: string): string {
  return path.join(dir, name);
}
