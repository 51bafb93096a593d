export default (_ctx: unknown, input: unknown) => ({ right: input });
