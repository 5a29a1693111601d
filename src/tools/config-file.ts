// Reading a client configuration file: Java properties (`key=value`, `key: value` or `key value` lines, `#` and
// `!` comments, `\` line continuations, `\t \n \r \f \uXXXX` escapes) or a JSON object of settings. Either way
// the result is a flat map of setting names to values; what the names mean is client-settings.ts's business.

import { readFileSync } from 'node:fs'
import { ConfigError } from '../client/errors.js'

export type SettingValue = string | number | boolean

/** Settings in file order (later duplicates win, as in Java). */
export type Settings = Map<string, SettingValue>

/** JSON when the file name ends in .json or its first non-blank character is `{` or `[`, else Java properties. */
export function readSettingsFile(path: string): Settings {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (err as Error).message
    throw new ConfigError(`${path}: cannot read the configuration (${why})`, { cause: err })
  }
  return parseSettings(text, path)
}

export function parseSettings(text: string, source = 'configuration'): Settings {
  const body = text.replace(/^\uFEFF/, '')
  const json = /\.json$/i.test(source) || /^[{[]/.test(body.trimStart())
  return json ? parseJsonSettings(body, source) : parseProperties(body, source)
}

export function parseJsonSettings(text: string, source = 'configuration'): Settings {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`${source}: not valid JSON (${(err as Error).message})`, { cause: err })
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`${source}: a JSON configuration must be an object of settings`)
  const out: Settings = new Map()
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
      out.set(key, v)
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out.set(key, v.join(','))
    else throw new ConfigError(`${source}: setting "${key}" must be a string, a number, a boolean or a list of strings`)
  }
  return out
}

/** Java's java.util.Properties format (the subset that matters for client configurations). */
export function parseProperties(text: string, source = 'configuration'): Settings {
  const out: Settings = new Map()
  const lines = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^[ \t\f]+/, '')
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    // A line ending in an odd number of backslashes continues on the next one (leading blanks dropped).
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^[ \t\f]+/, '')
    }
    let end = 0
    while (end < line.length) {
      const c = line[end]
      if (c === '\\') end += 2
      else if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break
      else end++
    }
    const key = unescapeProperty(line.slice(0, Math.min(end, line.length)), source, i + 1)
    let rest = line.slice(end).replace(/^[ \t\f]+/, '')
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '')
    if (key === '') throw new ConfigError(`${source}:${i + 1}: a setting without a name`)
    out.set(key, unescapeProperty(rest, source, i + 1))
  }
  return out
}

function unescapeProperty(s: string, source: string, line: number): string {
  if (!s.includes('\\')) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const n = s[++i]
    if (n === undefined) break
    if (n === 't') out += '\t'
    else if (n === 'n') out += '\n'
    else if (n === 'r') out += '\r'
    else if (n === 'f') out += '\f'
    else if (n === 'u') {
      const hex = s.slice(i + 1, i + 5)
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ConfigError(`${source}:${line}: malformed \\u escape`)
      out += String.fromCharCode(Number.parseInt(hex, 16))
      i += 4
    } else out += n
  }
  return out
}
