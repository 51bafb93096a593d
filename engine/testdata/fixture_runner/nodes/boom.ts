export default function boom(): never {
  throw new Error("boom ran");
}
