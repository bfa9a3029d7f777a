// CSV made in the browser (RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote
// or line break quoted, quotes doubled) and handed to the user as a download.

function csvField(value) {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// header: column names; rows: arrays of values in the same order.
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function downloadText(text, fileName, mediaType = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type: `${mediaType};charset=utf-8` }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once started; the object URL is not needed after this turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
