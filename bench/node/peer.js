// Minimal Node `ws` peer: viewers connect to /, a publisher connects to /?pub=1 and each
// {"seq": k} it sends becomes one ~200-byte JSON frame written to every viewer at once
// ({"seq": k, "bytes": n}: a frame padded to about n bytes, for the realistic workload).
"use strict";

const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.argv[2]);
const pad = "x".repeat(150);
const wss = new WebSocketServer({ port, host: "127.0.0.1", perMessageDeflate: false, backlog: 4096 });
const viewers = new Set();

wss.on("connection", (ws, req) => {
  if (req.url.includes("pub=1")) {
    ws.on("message", (data) => {
      const { seq, bytes } = JSON.parse(data.toString());
      const fill = bytes ? "x".repeat(Math.max(0, bytes - 50)) : pad;
      const frame = Buffer.from(JSON.stringify({ type: "update", v: seq, questions: [], pad: fill }));
      for (const viewer of viewers) {
        if (viewer.readyState === WebSocket.OPEN) viewer.send(frame, { binary: false });
      }
    });
    return;
  }
  viewers.add(ws);
  ws.send(JSON.stringify({ type: "snapshot", v: 0 }));
  ws.on("close", () => viewers.delete(ws));
  ws.on("error", () => viewers.delete(ws));
});
wss.on("listening", () => console.log("listening"));
