// Azurite's queue metadata store (LokiJS) measured in process, without HTTP: the cost of each call the queue
// service makes for Get/Delete Messages at a given number of stored messages. Compare the published Azurite
// (`npx patch-package --reverse`) with the patched one (`npx patch-package`), from the repository root:
//   node CalWebhookFunctions.Benchmarks/Load/azurite-queue-store.cjs 10000
const path = require("node:path");
const root = path.resolve(__dirname, "..", "..");
const Store = require(path.join(root, "node_modules/azurite/dist/src/queue/persistence/LokiQueueMetadataStore.js")).default;

async function main() {
  const count = Number(process.argv[2] ?? 10000);
  const store = new Store(path.join(require("node:os").tmpdir(), `azurite-queue-store-${process.pid}`), true);
  await store.init();
  await store.createQueue({ accountName: "a", name: "q", metadata: {}, queueAcl: [] });
  const expires = new Date(Date.now() + 7 * 864e5);
  for (let i = 0; i < count; i++) {
    await store.insertMessage({
      accountName: "a", queueName: "q", messageId: `m${i}`, popReceipt: "p", timeNextVisible: new Date(),
      persistency: { id: `e${i}`, offset: 0, count: 10 }, insertionTime: new Date(), expirationTime: expires, dequeueCount: 0,
    });
  }
  // The store's methods are async but synchronous inside: the time of the call is the time of the work.
  const time = (label, call, n = 20) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) call(i);
    console.log(`${label.padEnd(40)} ${(Number(process.hrtime.bigint() - start) / 1e6 / n).toFixed(2)} ms`);
  };
  console.log(`${count} messages in the store`);
  for (let i = 0; i < 5; i++) store.clearExpiredMessages("a", "q"); // warm-up (JIT)
  time("clearExpiredMessages (none expired)", () => store.clearExpiredMessages("a", "q"));
  // Each call dequeues 16 from the front; the deletes take messages from the back, which no call dequeued.
  time("getMessages x16", () => store.getMessages("a", "q", new Date(Date.now() + 6e5), "r", 16), Math.max(1, Math.min(20, Math.floor(count / 64))));
  time("deleteMessage", (i) => store.deleteMessage("a", "q", `m${count - 1 - i}`, "p"));
}

main();
