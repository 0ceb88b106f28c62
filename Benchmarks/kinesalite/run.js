// Runs kinesalite's test suite (test/*.js of a kinesalite checkout; its messages were recorded
// against AWS) against `kinesis-load serve`, and prints how many of its cases pass.
//
//   node Benchmarks/kinesalite/run.js KINESALITE_DIR KINESIS_LOAD_BIN [STALE_LIST]
//
// Nothing of kinesalite's is copied: its test files are loaded from the checkout, its server is
// replaced by ours (started on the port its helpers pick), and its storage modules, which only
// its own sequence-number parser needs, are stubbed. A minimal describe/it runner stands in for
// mocha. Cases named in STALE_LIST (one "file: full title" per line, '#' comments) are answers
// AWS no longer gives (its model changed since kinesalite recorded them) and are counted apart.
'use strict'
const Module = require('module')
const path = require('path')
const fs = require('fs')
const { spawn } = require('child_process')

const [kinesaliteDir, binary, staleList] = process.argv.slice(2).map((p) => p && path.resolve(p))
if (!kinesaliteDir || !binary) {
  console.error('usage: node run.js KINESALITE_DIR KINESIS_LOAD_BIN [STALE_LIST]')
  process.exit(64)
}
const stale = new Map()
if (staleList) {
  for (const line of fs.readFileSync(staleList, 'utf8').split('\n')) {
    const text = line.trim()
    if (!text || text.startsWith('#')) continue
    const [title, why] = text.split(' -- ')
    stale.set(title.trim(), (why || '').trim())
  }
}

// Our server in place of kinesalite's: {ssl: true} serves HTTPS with the checkout's certificate.
const servers = []
function fakeKinesalite(options) {
  let child = null
  return {
    listen(port, cb) {
      // the shard limit kinesalite's helpers assume (50), 500 ms in each transitional state.
      const args = ['serve', '--port', String(port), '--shard-limit', '50']
      // (BASELINE=1 for a binary from before serve had --delays.)
      if (!process.env.BASELINE) args.push('--delays', 'creating=500ms,updating=500ms,deleting=500ms')
      if (options && options.ssl) {
        args.push('--tls-cert', path.join(kinesaliteDir, 'ssl', 'server-crt.pem'), '--tls-key', path.join(kinesaliteDir, 'ssl', 'server-key.pem'))
      }
      child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      servers.push(child)
      let said = ''
      child.stdout.on('data', (chunk) => {
        said += chunk
        if (said.includes('listening on') && cb) { const c = cb; cb = null; c() }
      })
      child.stderr.on('data', () => {})
      child.on('exit', (code) => { if (cb) { const c = cb; cb = null; c(new Error('serve exited ' + code)) } })
    },
    close(cb) { if (child) child.kill('SIGTERM'); cb && cb() },
  }
}
const stubs = {
  levelup: () => ({}), memdown: () => ({}), subleveldown: () => ({}), lock: () => () => {}, lazy: () => ({}),
  uuid: { v4: () => '00000000-0000-0000-0000-000000000000' },
}
const originalLoad = Module._load
Module._load = function (request, parent, isMain) {
  if (Object.prototype.hasOwnProperty.call(stubs, request)) return stubs[request]
  if (parent && parent.filename && parent.filename.startsWith(kinesaliteDir) && (request === '..' || request === '../index')) {
    return fakeKinesalite
  }
  return originalLoad.apply(this, arguments)
}
// Debian's node-* packages (apt install node-should node-aws4 node-async node-once node-bignumber node-cbor).
process.env.NODE_PATH = [process.env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(':')
Module._initPaths()
process.env.AWS_ACCESS_KEY_ID = process.env.AWS_ACCESS_KEY_ID || 'AKIDEXAMPLE'
process.env.AWS_SECRET_ACCESS_KEY = process.env.AWS_SECRET_ACCESS_KEY || 'secret'
require('should')

// A minimal mocha: suites with hooks, cases with done callbacks, this.timeout().
const root = { title: '', suites: [], tests: [], before: [], after: [], parent: null }
let current = root
let file = ''
global.describe = (title, fn) => {
  const suite = { title, suites: [], tests: [], before: [], after: [], parent: current, file }
  current.suites.push(suite)
  const saved = current
  current = suite
  fn.call({ timeout() {} })
  current = saved
}
global.it = (title, fn) => current.tests.push({ title, fn, file, suite: current })
global.it.skip = (title) => current.tests.push({ title, fn: null, file, suite: current })
global.before = (fn) => current.before.push(fn)
global.after = (fn) => current.after.push(fn)

let failCurrent = null
process.on('uncaughtException', (error) => { if (failCurrent) failCurrent(error); else console.error('uncaught', error) })

function runOne(fn, defaultTimeout) {
  return new Promise((resolve) => {
    let finished = false
    let timeout = defaultTimeout
    let timer = null
    const finish = (error) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      failCurrent = null
      resolve(error || null)
    }
    const context = { timeout(ms) { timeout = ms; clearTimeout(timer); timer = setTimeout(() => finish(new Error('timed out after ' + ms + ' ms')), ms) } }
    failCurrent = finish
    timer = setTimeout(() => finish(new Error('timed out after ' + timeout + ' ms')), timeout)
    try {
      if (fn.length > 0) fn.call(context, (error) => finish(error))
      else Promise.resolve(fn.call(context)).then(() => finish(), finish)
    } catch (error) {
      finish(error)
    }
  })
}

function fullTitle(suite, title) {
  const parts = [title]
  for (let s = suite; s && s.title; s = s.parent) parts.unshift(s.title)
  return parts.join(' ')
}

const results = []
// A case that waits five minutes (for an iterator to expire) runs only with FULL=1; the engine's
// iterator expiry is pinned on a manual clock in the Swift tests.
const slow = new Set(['getRecords.js: getRecords validations should return ExpiredIteratorException if ShardIterator has expired'])
async function runSuite(suite) {
  for (const hook of suite.before) {
    const error = await runOne(hook, 200000)
    if (error) { console.error('before hook failed:', error.message); process.exitCode = 1; return }
  }
  for (const test of suite.tests) {
    const title = `${path.basename(test.file)}: ${fullTitle(test.suite, test.title)}`
    if (!test.fn || (slow.has(title) && !process.env.FULL)) { results.push({ title, status: 'skipped' }); continue }
    const error = await runOne(test.fn, 4000)
    const status = error ? (stale.has(title) ? 'stale' : 'failed') : 'passed'
    results.push({ title, status, error: error && (process.env.VERBOSE ? String(error.message).slice(0, 3000) : String(error.message).split('\n')[0].slice(0, 400)) })
    if (status !== 'passed') console.log(`${status.toUpperCase()} ${title}${error ? '\n     ' + results[results.length - 1].error : ''}`)
  }
  for (const child of suite.suites) await runSuite(child)
  for (const hook of suite.after) await runOne(hook, 200000)
}

async function main() {
  const testDir = path.join(kinesaliteDir, 'test')
  file = path.join(testDir, 'helpers.js')
  require(file)
  const only = process.env.ONLY ? process.env.ONLY.split(',') : null
  for (const name of fs.readdirSync(testDir).sort()) {
    if (name === 'helpers.js' || !name.endsWith('.js')) continue
    if (only && !only.includes(name)) continue
    file = path.join(testDir, name)
    require(file)
  }
  await runSuite(root)
  for (const child of servers) child.kill('SIGTERM')
  const count = (s) => results.filter((r) => r.status === s).length
  const passed = count('passed'), failed = count('failed'), staleCount = count('stale')
  const unusedStale = [...stale.keys()].filter((t) => results.some((r) => r.title === t) && !results.some((r) => r.title === t && r.status === 'stale'))
  for (const t of unusedStale) console.log(`STALE BUT NOT FAILING (remove it from the list): ${t}`)
  const judged = passed + failed
  console.log(`kinesalite cases: ${passed} of ${judged} non-stale passed (${(100 * passed / judged).toFixed(1)}%); ` +
    `${staleCount} stale, ${count('skipped')} skipped (by kinesalite, or slow without FULL=1)`)
  process.exit(0)
}
main().catch((error) => { console.error(error); process.exit(1) })
