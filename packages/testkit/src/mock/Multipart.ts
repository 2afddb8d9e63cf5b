/**
 * A small multipart/form-data parser for the upload endpoints: enough to record the fields and the file
 * a client really sent, byte for byte, without a dependency.
 */

/** A file part as received. */
export interface ReceivedFile {
  readonly field: string
  readonly filename: string
  readonly contentType: string
  readonly size: number
  readonly data: Uint8Array
}

/** The parts of a multipart body: text fields (repeated names collect into arrays) and files. */
export interface ParsedForm {
  readonly fields: Record<string, string | Array<string>>
  readonly files: ReadonlyArray<ReceivedFile>
}

/** The boundary of a `multipart/form-data` content type, if it is one. */
export const boundaryOf = (contentType: string | undefined): string | undefined => {
  const match = /^multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? "")
  return match ? (match[1] ?? match[2])!.trim() : undefined
}

const headerValue = (headers: string, name: string) =>
  new RegExp(`^${name}:\\s*(.*)$`, "im").exec(headers)?.[1]?.trim()

const param = (header: string | undefined, name: string) =>
  header === undefined ? undefined : new RegExp(`${name}="([^"]*)"`, "i").exec(header)?.[1]

/** Parses a multipart body. Malformed parts are skipped rather than failing: the mock records what it can. */
export const parseMultipart = (body: Buffer, boundary: string): ParsedForm => {
  const fields: Record<string, string | Array<string>> = {}
  const files: Array<ReceivedFile> = []
  const delimiter = Buffer.from(`--${boundary}`)
  let at = body.indexOf(delimiter)
  while (at !== -1) {
    const start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === "--") break
    const next = body.indexOf(delimiter, start)
    if (next === -1) break
    // A part is CRLF, headers, CRLF CRLF, content, CRLF, then the next delimiter.
    const part = body.subarray(start + 2, next - 2)
    const split = part.indexOf("\r\n\r\n")
    if (split !== -1) {
      const headers = part.subarray(0, split).toString("utf8")
      const content = part.subarray(split + 4)
      const disposition = headerValue(headers, "content-disposition")
      const name = param(disposition, "name")
      const filename = param(disposition, "filename")
      if (name !== undefined && filename !== undefined) {
        files.push({
          field: name,
          filename,
          contentType: headerValue(headers, "content-type") ?? "application/octet-stream",
          size: content.length,
          data: new Uint8Array(content)
        })
      } else if (name !== undefined) {
        const value = content.toString("utf8")
        const existing = fields[name]
        fields[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
      }
    }
    at = next
  }
  return { fields, files }
}
