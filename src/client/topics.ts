// Kafka's rules for topic names (Topic.validate in the Java client): 1 to 249 characters of
// [a-zA-Z0-9._-], and not "." or "..". Checked before a message is accepted, so an illegal name fails
// at once with a clear error instead of as an INVALID_TOPIC_EXCEPTION round trip later.

const LEGAL = /^[a-zA-Z0-9._-]+$/
export const MAX_TOPIC_NAME_LENGTH = 249

/** Why `name` is not a legal topic name, or null when it is. */
export function topicNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `a topic name must be a string, got ${typeof name}`
  if (name.length === 0) return 'a topic name cannot be empty'
  if (name === '.' || name === '..') return `a topic name cannot be "${name}"`
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `topic name "${name.slice(0, 40)}..." has ${name.length} characters; at most ${MAX_TOPIC_NAME_LENGTH} are allowed`
  }
  if (!LEGAL.test(name)) return `topic name "${name}" has characters other than ASCII letters, digits, '.', '_' and '-'`
  return null
}
