/**
 * True when `text` holds no control character (C0, DEL, C1). Text a person or a terminal will
 * read (names, URLs, paths) is refused with them: a NUL used to reach the database as a 500, an
 * escape sequence would redraw an operator's terminal.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const noControlChars = (text: string): boolean => !/[\u0000-\u001f\u007f-\u009f]/.test(text);
