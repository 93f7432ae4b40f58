/** Client input quoted in an error message: at most `max` characters, so an answer never echoes a whole body. */
export function excerpt(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
