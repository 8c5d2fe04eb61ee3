// The I/O shell: client connections, the client port, four-letter words.
export { ClientConnection, type ConnectionHost } from "./connection.js";
export { ClientListener, type ListenerOptions } from "./listener.js";
export { fourLetterWord, FOUR_LETTER_WORDS, type FourLetterSource } from "./fourletter.js";
export { ServerStats } from "./stats.js";
