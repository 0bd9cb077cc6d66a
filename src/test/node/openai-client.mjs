// The official openai client against `amalgam serve`: node openai-client.mjs BASE_URL (the package installed
// beside it by OpenAiClientTest). Prints one JSON line of what it saw; exits 1 on any surprise.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "unused" });
const seen = {};
const check = (ok, what) => {
  if (!ok) {
    console.error("unexpected: " + what);
    process.exit(1);
  }
};

const models = await client.models.list();
seen.model = models.data[0].id;

const completion = await client.completions.create({ model: seen.model, prompt: "The smith kept", max_tokens: 8,
  temperature: 0 });
seen.completion = completion.choices[0].text;
check(completion.usage.completion_tokens === 8, "usage " + JSON.stringify(completion.usage));

const two = await client.completions.create({ model: seen.model, prompt: "The smith kept", max_tokens: 6, n: 2,
  temperature: 0, stop: ["\n"] });
check(two.choices.length === 2 && two.choices[0].text === two.choices[1].text, "n=2 " + JSON.stringify(two));

const chat = await client.chat.completions.create({ model: seen.model, max_tokens: 8, temperature: 0,
  messages: [{ role: "user", content: "Tell me about the forge." }] });
seen.chat = chat.choices[0].message.content;

let streamed = "";
const stream = await client.chat.completions.create({ model: seen.model, max_tokens: 8, temperature: 0,
  stream: true, messages: [{ role: "user", content: "Tell me about the forge." }] });
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.delta?.content ?? "";
}
check(streamed === seen.chat, "stream " + JSON.stringify(streamed) + " vs " + JSON.stringify(seen.chat));

try {
  await client.completions.create({ model: seen.model, prompt: "x", max_tokens: 4, temperature: "hot" });
  check(false, "a bad temperature was accepted");
} catch (e) {
  check(e instanceof OpenAI.APIError && e.status === 400, "error " + e);
  seen.error = e.status;
}
console.log(JSON.stringify(seen));
