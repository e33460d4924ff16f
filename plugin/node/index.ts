/** bankgate on Node: the fast request listener (declared bank calls without WHATWG framing; the rest via Hono). */
export { createNodeHandler } from './node-handler.js';
