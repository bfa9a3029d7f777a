#pragma once
// An ordered set kept as sorted blocks of at most block_capacity elements: the memory store's
// indexes (creation orders by state, engine, tag and owner; order -> id; finish times).
//
// Why not std::set: a node is 40 B of element and links, 48 B from jemalloc, and a finished
// job sits in five such indexes: ~240 B of a job's 1 KiB budget (issue 7: <= 1 KiB of RSS per
// finished echo job at 1,000,000 jobs). Here an element costs its own size plus a map node
// shared by up to block_capacity of them, and a walk reads contiguous memory. The indexes'
// inserts are almost all at the end (creation orders and finish times grow) and their erases
// mostly at the front (retention removes the oldest): both touch one block.
//
// Invariants: no block is empty; a block's key is <= its first element and greater than every
// element of the blocks before it (erasing a block's first element may leave its key below
// its new first one, which keeps both true, so the key is not rewritten).
#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

namespace nox {

template <typename T, typename Less = std::less<T>>
class BlockSet {
  using Blocks = std::map<T, std::vector<T>, Less>;

 public:
  static constexpr std::size_t block_capacity = 128;

  class const_iterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    reference operator*() const { return block_->second[index_]; }
    pointer operator->() const { return &block_->second[index_]; }
    const_iterator& operator++() {
      if (++index_ == block_->second.size()) {
        ++block_;
        index_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    const_iterator& operator--() {
      if (index_ == 0) {
        --block_;
        index_ = block_->second.size() - 1;
      } else {
        --index_;
      }
      return *this;
    }
    const_iterator operator--(int) {
      const_iterator before = *this;
      --*this;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.block_ == b.block_ && a.index_ == b.index_;
    }

   private:
    friend class BlockSet;
    const_iterator(typename Blocks::const_iterator block, std::size_t index) : block_(block), index_(index) {}
    typename Blocks::const_iterator block_{};
    std::size_t index_ = 0;  // 0 at end()
  };

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const_iterator begin() const { return {blocks_.begin(), 0}; }
  const_iterator end() const { return {blocks_.end(), 0}; }

  // The first element not less than `value`.
  const_iterator lower_bound(const T& value) const {
    auto block = blocks_.upper_bound(value);
    if (block == blocks_.begin()) return begin();
    --block;
    const auto& elements = block->second;
    const auto at = std::lower_bound(elements.begin(), elements.end(), value, less_);
    if (at == elements.end()) return {std::next(block), 0};
    return {block, static_cast<std::size_t>(at - elements.begin())};
  }

  const_iterator find(const T& value) const {
    const_iterator at = lower_bound(value);
    return at != end() && !less_(value, *at) ? at : end();
  }
  bool contains(const T& value) const { return find(value) != end(); }

  // False when an equal element is here already.
  bool insert(const T& value) {
    auto block = blocks_.upper_bound(value);
    if (block == blocks_.begin()) return insert_before_all(block, value);
    --block;
    auto& elements = block->second;
    auto at = std::lower_bound(elements.begin(), elements.end(), value, less_);
    if (at != elements.end() && !less_(value, *at)) return false;
    if (elements.size() < block_capacity) {
      elements.insert(at, value);
    } else if (at == elements.end()) {
      // Past a full block (the usual append): a new block, so full ones stay full.
      blocks_.emplace_hint(std::next(block), value, std::vector<T>{value});
    } else {
      split_and_insert(block, value);
    }
    ++size_;
    return true;
  }

  // False when no equal element is here.
  bool erase(const T& value) {
    auto block = blocks_.upper_bound(value);
    if (block == blocks_.begin()) return false;
    --block;
    auto& elements = block->second;
    const auto at = std::lower_bound(elements.begin(), elements.end(), value, less_);
    if (at == elements.end() || less_(value, *at)) return false;
    elements.erase(at);
    --size_;
    if (elements.empty()) {
      blocks_.erase(block);
      return true;
    }
    // Erases scattered through the middle would leave many small blocks: one that falls to a
    // quarter takes in its successor when both fit in one.
    const auto next = std::next(block);
    if (elements.size() < block_capacity / 4 && next != blocks_.end() &&
        elements.size() + next->second.size() <= block_capacity) {
      elements.insert(elements.end(), next->second.begin(), next->second.end());
      blocks_.erase(next);
    }
    return true;
  }

 private:
  // `value` is less than every block's key: it becomes the first block's first element and key.
  bool insert_before_all(typename Blocks::iterator first, const T& value) {
    if (first == blocks_.end() || first->second.size() >= block_capacity) {
      blocks_.emplace_hint(first, value, std::vector<T>{value});
    } else {
      auto node = blocks_.extract(first);
      node.mapped().insert(node.mapped().begin(), value);
      node.key() = value;
      blocks_.insert(std::move(node));
    }
    ++size_;
    return true;
  }

  // A full block gives its upper half to a new block; `value` goes into the half it belongs in.
  void split_and_insert(typename Blocks::iterator block, const T& value) {
    auto& lower = block->second;
    const auto half = lower.begin() + static_cast<std::ptrdiff_t>(lower.size() / 2);
    std::vector<T> upper(half, lower.end());
    lower.erase(half, lower.end());
    auto& into = less_(value, upper.front()) ? lower : upper;
    into.insert(std::lower_bound(into.begin(), into.end(), value, less_), value);
    T key = upper.front();
    blocks_.emplace_hint(std::next(block), std::move(key), std::move(upper));
  }

  Blocks blocks_;  // keyed by (at most) each block's first element
  std::size_t size_ = 0;
  [[no_unique_address]] Less less_;
};

}  // namespace nox
