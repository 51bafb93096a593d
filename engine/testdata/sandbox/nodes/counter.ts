let calls = 0;

/** Counts its calls in module state: the count proves which isolate ran it. */
export default function run() {
  return ++calls;
}
