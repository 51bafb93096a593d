export default (_ctx: unknown, input: unknown) => ({ left: input });
