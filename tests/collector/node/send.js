// The official Segment Node SDK (@segment/analytics-node) pointed at the local collector.
// Usage: node send.js <host> <writeKey> <userId> <anonymousId> <email>
// Prints one JSON line per HTTP response it got, exits 1 if the SDK reported an error.
const { Analytics } = require('@segment/analytics-node')

const [host, writeKey, userId, anonymousId, email] = process.argv.slice(2)
const analytics = new Analytics({ writeKey, host, flushAt: 4, flushInterval: 200, maxRetries: 3 })
let failed = false
analytics.on('error', (err) => {
  failed = true
  console.error('sdk error', err && err.code, err && err.reason && String(err.reason))
})
analytics.on('http_response', (res) => console.log(JSON.stringify({ status: res.status, url: res.url })))

analytics.page({ anonymousId, name: 'Home', properties: { url: 'https://shop.example.dev/', path: '/' } })
analytics.track({ anonymousId, event: 'Product Viewed', properties: { product_id: 'sku-1', price: 12.5 } })
analytics.identify({ userId, anonymousId, traits: { email, first_name: 'Linus' } })
analytics.track({ userId, anonymousId, event: 'Article Read', properties: { title: 'Kernels' } })
analytics.screen({ userId, name: 'Settings', properties: { tab: 'profile' } })
analytics.group({ userId, groupId: 'org-1', traits: { name: 'Kernel Org' } })
analytics.alias({ userId, previousId: anonymousId })

analytics.closeAndFlush({ timeout: 20000 }).then(() => process.exit(failed ? 1 : 0))
