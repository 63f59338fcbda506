/** slotlink: private shared-memory slots per process, one connection per pair of hosts. */
export { connect, type ConnectOptions } from './client/connect.js';
export { Endpoint, type RequestOptions, type Payload, type Undeliverable, type EndpointStats, type SlowSubscription } from './client/endpoint.js';
export { Message, MessageKind } from './client/message.js';
export { Subscription, type SubscribeOptions } from './client/subscription.js';
export { SubscriptionPolicy } from './contract/registration.js';
export { StatusType, type StatusEvent, type StatusIterator } from './client/status.js';
export { requestStatus } from './client/registration.js';
export { Proxy, type ProxyOptions } from './proxy/proxy.js';
export type { ProxyStats, SlotStats } from './proxy/stats.js';
export * from './errors.js';
