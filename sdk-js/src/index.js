// @qun/sdk: write Qun group apps in JavaScript.
// Capabilities are separate modules (`@qun/sdk/storage`, ...): importing one
// is what makes the app ask for it.
export { defineApp, Context, fromWitValue, toEvent } from './app.js';
export { QunError, Denied, NotFound, Invalid, QuotaExceeded, Conflict, Internal, ERROR_TAGS, errorClass, toQunError, witErrorOf } from './errors.js';
export { Message, Card, Button, Select, MemberPicker, Form, Input, Reply, ActionAnswer, answer, limits, messageToWit, responseToWit } from './blocks.js';
export { toBytes, fromBytes, jsonBytes, parseJsonBytes } from './bytes.js';
export { zonedParts, dateIn, formatIn, fromZonedParts } from './time.js';
