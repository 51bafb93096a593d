export default function only() {
  return 1;
}
