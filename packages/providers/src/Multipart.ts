/**
 * Uploads (transcription) go out as multipart/form-data: the file as a part with its name and type, every
 * other request field as a form field, in the conventions OpenAI's form endpoints use.
 */
import type { Wire } from "@switchyard/core"

/** A form field value as the upstream expects it: arrays as repeated `key[]` fields, objects as JSON. */
const appendField = (form: FormData, key: string, value: unknown): void => {
  if (value === undefined || value === null) return
  if (Array.isArray(value)) {
    const name = key.endsWith("[]") ? key : `${key}[]`
    for (const item of value) appendField(form, name, item)
    return
  }
  form.append(key, typeof value === "object" ? JSON.stringify(value) : String(value))
}

/** The form of an upload request: `file` as a file part, the other fields as fields, `model` set to `model`. */
export const uploadForm = (
  request: { readonly file: Wire.UploadedFile } & Readonly<Record<string, unknown>>,
  model: string
): FormData => {
  const form = new FormData()
  const { file, ...fields } = request
  // Copy into a fresh ArrayBuffer-backed view: Blob parts must not be views of a shared buffer.
  form.append("file", new Blob([new Uint8Array(file.data)], { type: file.contentType }), file.filename)
  for (const [key, value] of Object.entries({ ...fields, model })) {
    if (key === "stream") continue
    appendField(form, key, value)
  }
  return form
}
