// A real SMTP server for the browser suite (playwright.config.ts starts it as a web server): it accepts
// mail on SMTP_CATCHER_PORT and shows what arrived as JSON at http://127.0.0.1:<HTTP port>/mail?to=…,
// so a spec reads the mail a person would get, sent by the app through nodemailer over SMTP.
import http from "node:http";
import { startSmtpServer } from "../smtp-harness.ts";

const smtpPort = Number(process.env.SMTP_CATCHER_PORT ?? 3325);
const httpPort = Number(process.env.SMTP_CATCHER_HTTP_PORT ?? 3326);

const smtp = await startSmtpServer({ port: smtpPort });
http
  .createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const to = url.searchParams.get("to");
    const mail = smtp.received
      .filter((message) => !to || message.to.includes(to))
      .map(({ to: recipients, from, subject, text, html }) => ({ to: recipients, from, subject, text, html }));
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(url.pathname === "/mail" ? mail : { ok: true }));
  })
  .listen(httpPort, "127.0.0.1");
console.log(`SMTP catcher: smtp on ${smtpPort}, mail as JSON on http://127.0.0.1:${httpPort}/mail`);
