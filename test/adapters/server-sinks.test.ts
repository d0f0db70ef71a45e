/**
 * MongoDB and Neo4j sinks through the conformance suite, against servers named by
 * GKM_TEST_MONGODB_URL (a replica set: the sink uses transactions) and GKM_TEST_NEO4J_URL
 * (bolt://user:password@host:7687). Neither server can be installed on the machines this project
 * is tested on: without the variable the run is skipped with "not run: no server".
 */
import { MongoClient } from 'mongodb'
import neo4j from 'neo4j-driver'
import { MongoDbSink } from '../../src/adapters/mongodb/mongodb-sink.ts'
import { Neo4jSink } from '../../src/adapters/neo4j/neo4j-sink.ts'
import { runSinkConformance } from '../compliance/sink-suite.ts'

const mongoUrl = process.env.GKM_TEST_MONGODB_URL
const neo4jUrl = process.env.GKM_TEST_NEO4J_URL
const run = `t${Date.now().toString(36)}`

runSinkConformance('mongodb', async () => {
  if (mongoUrl === undefined || mongoUrl === '')
    return 'not run: no server (set GKM_TEST_MONGODB_URL to a replica set)'
  const prefix = `gkm_${run}_`
  return {
    open: () =>
      new MongoDbSink({
        name: 'conformance',
        types: ['persona_update', 'document_update'],
        prefix,
        url: mongoUrl,
      }),
    destroy: async () => {
      const client = new MongoClient(mongoUrl)
      try {
        for (const c of ['personas', 'documents', 'checkpoints'])
          await client
            .db()
            .collection(prefix + c)
            .drop()
            .catch(() => {})
      } finally {
        await client.close()
      }
    },
  }
})

runSinkConformance('neo4j', async () => {
  if (neo4jUrl === undefined || neo4jUrl === '') return 'not run: no server (set GKM_TEST_NEO4J_URL)'
  return {
    open: () => new Neo4jSink({ name: `conformance-${run}`, types: ['graph_update'], url: neo4jUrl }),
    destroy: async () => {
      const u = new URL(neo4jUrl)
      const auth =
        u.username === '' ? undefined : neo4j.auth.basic(u.username, decodeURIComponent(u.password))
      u.username = ''
      u.password = ''
      const d = neo4j.driver(u.toString(), auth)
      try {
        await d.executeQuery('MATCH (c:GkmCheckpoint {sink: $s}) DELETE c', { s: `conformance-${run}` })
      } finally {
        await d.close()
      }
    },
  }
})
