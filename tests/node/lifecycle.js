// A conversation lifecycle driven by the official Intercom Node SDK (intercom-client), unmodified,
// against a running Parley. Usage: node lifecycle.js BASE_URL TOKEN TEAM_ID. Exits non-zero on failure.
"use strict";
const assert = require("node:assert/strict");
const { IntercomClient, IntercomError } = require("intercom-client");

async function main() {
  const [baseUrl, token, teamId] = process.argv.slice(2);
  const client = new IntercomClient({ token, baseUrl });

  const me = await client.admins.identify();
  assert.equal(me.type, "admin");

  const contact = await client.contacts.create({ email: `node-${Date.now()}@example.com` });
  const message = await client.conversations.create({
    from: { type: "user", id: contact.id },
    body: "Hello from Node",
  });
  const conversationId = message.conversation_id;
  assert.ok(conversationId, "the conversation id comes back with the message");

  let conversation = await client.conversations.reply({
    conversation_id: conversationId,
    body: { message_type: "comment", type: "admin", admin_id: me.id, body: "Hi, how can I help?" },
  });
  assert.equal(conversation.waiting_since, null);
  conversation = await client.conversations.reply({
    conversation_id: conversationId,
    body: { message_type: "note", type: "admin", admin_id: me.id, body: "Internal note" },
  });
  conversation = await client.conversations.reply({
    conversation_id: conversationId,
    body: { message_type: "comment", type: "user", intercom_user_id: contact.id, body: "Thanks" },
  });
  assert.equal(conversation.read, false);

  conversation = await client.conversations.manage({
    conversation_id: conversationId,
    body: { message_type: "assignment", type: "admin", admin_id: me.id, assignee_id: me.id },
  });
  assert.equal(String(conversation.admin_assignee_id), String(me.id));
  conversation = await client.conversations.manage({
    conversation_id: conversationId,
    body: { message_type: "snoozed", admin_id: me.id, snoozed_until: Math.floor(Date.now() / 1000) + 3600 },
  });
  assert.equal(conversation.state, "snoozed");
  conversation = await client.conversations.manage({
    conversation_id: conversationId,
    body: { message_type: "open", admin_id: me.id },
  });
  assert.equal(conversation.state, "open");

  const tag = await client.tags.create({ name: "node-sdk" });
  await client.tags.tagConversation({ conversation_id: conversationId, id: tag.id, admin_id: me.id });

  conversation = await client.conversations.manage({
    conversation_id: conversationId,
    body: { message_type: "close", type: "admin", admin_id: me.id, body: "Bye" },
  });
  assert.equal(conversation.state, "closed");
  assert.equal(conversation.open, false);

  const found = await client.conversations.find({ conversation_id: conversationId });
  const parts = found.conversation_parts.conversation_parts.map((p) => p.part_type);
  assert.deepEqual(parts, ["comment", "note", "comment", "assignment", "snoozed", "open", "close"]);
  assert.deepEqual(found.tags.tags.map((t) => t.name), ["node-sdk"]);

  const seen = [];
  for await (const item of await client.conversations.list({ per_page: 1 })) {
    seen.push(item.id);
  }
  assert.ok(seen.includes(String(conversationId)), "the pager reaches the conversation");

  try {
    await client.conversations.find({ conversation_id: "999999999" });
    assert.fail("an unknown conversation is an error");
  } catch (error) {
    assert.ok(error instanceof IntercomError, String(error));
    assert.equal(error.statusCode, 404);
  }
  // The SDK reads the wall-clock per-team first response times as `..._by_team`.
  const billing = await client.conversations.create({ from: { type: "user", id: contact.id }, body: "Billing?" });
  await client.conversations.manage({
    conversation_id: billing.conversation_id,
    body: { message_type: "assignment", type: "team", admin_id: me.id, assignee_id: teamId },
  });
  await client.conversations.reply({
    conversation_id: billing.conversation_id,
    body: { message_type: "comment", type: "admin", admin_id: me.id, body: "Billing here" },
  });
  const { statistics } = await client.conversations.find({ conversation_id: billing.conversation_id });
  for (const times of [statistics.assigned_team_first_response_time_by_team,
                       statistics.assigned_team_first_response_time_in_office_hours]) {
    assert.ok(Array.isArray(times), JSON.stringify(statistics));
    assert.deepEqual(times.map((t) => [t.team_id, t.team_name]), [[Number(teamId), "Billing"]]);
  }

  console.log(JSON.stringify({ ok: true, conversation: conversationId, parts: parts.length, listed: seen.length }));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
