// A tus 1.0.0 reference server (@tus/server + @tus/file-store) for tests.
// Usage: node server.mjs [port] [storeDir]   (or TUS_PORT / TUS_STORE_DIR); port 0 = any free port,
// no storeDir = a fresh temporary directory.
// Listens on 127.0.0.1 only and prints one line "listening <port>" once ready.
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Server } from '@tus/server'
import { FileStore } from '@tus/file-store'

const port = Number(process.argv[2] ?? process.env.TUS_PORT ?? 0)
const directory = process.argv[3] ?? process.env.TUS_STORE_DIR ??
  fs.mkdtempSync(path.join(os.tmpdir(), 'tus-store-'))
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) })
const server = http.createServer((req, res) => tus.handle(req, res))
server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
