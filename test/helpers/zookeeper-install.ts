// Where the local Apache ZooKeeper lives: one lookup, shared with the benchmark (which
// is built, so the lookup lives beside it in bench/servers/).
export { findZooKeeperInstall, inCi, INSTALL_HINT, type ZooKeeperInstall } from "../../bench/servers/zookeeper-install.js";
