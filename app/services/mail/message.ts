// A message as people receive it: plain text, and the same as simple HTML (links clickable).
export type MailMessage = { to: string; subject: string; text: string; html: string };

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** A short message: a greeting line, paragraphs, one link to follow, and a closing note. */
export function composeMail({
  to,
  subject,
  paragraphs,
  link,
  footer,
}: {
  to: string;
  subject: string;
  paragraphs: readonly string[];
  link: { label: string; url: string };
  footer: string;
}): MailMessage {
  const text = [...paragraphs, `${link.label}: ${link.url}`, footer].join("\n\n") + "\n";
  const html = [
    ...paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    `<p style="color:#555">${escapeHtml(footer)}</p>`,
  ].join("\n");
  return { to, subject, text, html: `<!doctype html>\n<html><body>\n${html}\n</body></html>\n` };
}
